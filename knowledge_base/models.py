"""Tables of the knowledge base: guides with their working draft, immutable published versions, audit log."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base


class Guide(Base):
    """One service item. `draft` is the editors' working copy; `live_version` points at what citizens see
    (None: never published, or archived). `revision` counts every change of the row: the ORM writes with
    `WHERE revision = <read value>`, so a concurrent change makes the later write fail (optimistic locking)."""

    __tablename__ = "kb_guides"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    draft: Mapped[dict] = mapped_column(JSON)
    live_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer)
    edited_by: Mapped[str] = mapped_column(String(80), default="")  # last to change the draft's content
    submitted_by: Mapped[str] = mapped_column(String(80), default="")  # who sent the draft to review

    __mapper_args__ = {"version_id_col": revision}


class GuideVersion(Base):
    """A published snapshot. Never updated: a rollback publishes a new version with old content."""

    __tablename__ = "kb_guide_versions"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(ForeignKey("kb_guides.code"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    published_by: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class AuditEvent(Base):
    __tablename__ = "kb_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")



class Alias(Base):
    """One entry of the query dictionary editors keep: a colloquial name (`alias`) or a common misspelling
    (`typo`) and the wording the guides use. Retrieval rewrites `term` into `canonical` before searching."""

    __tablename__ = "kb_aliases"

    term: Mapped[str] = mapped_column(String(80), primary_key=True)
    canonical: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(8), default="alias")  # alias | typo
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SafetyTopic(Base):
    """One topic of the safety policy (self-harm, emergencies, corruption reports, …): how it is recognised and
    what the citizen is told. `data` is the whole validated document (`knowledge_base.safety.SafetyTopicDoc`);
    every change is written to the audit log under `SAFETY_LOG_CODE`."""

    __tablename__ = "kb_safety_topics"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
