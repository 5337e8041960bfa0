"""The editor workflow: draft → in_review → published (immutable versions) → archived; rollback; audit.

Every change runs in one transaction and writes an audit event; the live index watches the audit
log (`knowledge_base.live_index`), so a publish from any process or replica reaches citizens in ~1 s.
"""
from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.db import Database
from core.clock import utcnow
from knowledge_base.models import AuditEvent, Guide, GuideVersion
from knowledge_base.schema import GuideData

ROLES_THAT_EDIT = {"editor", "reviewer", "admin"}
ROLES_THAT_REVIEW = {"reviewer", "admin"}


class WorkflowError(Exception):
    """A request that breaks the workflow rules; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class KnowledgeBase:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading --------------------------------------------------------------------------------
    def get(self, code: str) -> Guide:
        with self.db.session() as s:
            guide = s.get(Guide, code.upper())
            if guide is None:
                raise WorkflowError(f"事项 {code} 不存在 / no guide with code {code}", 404)
            return guide

    def list(self, query: str = "", status: str = "", limit: int = 100, offset: int = 0) -> list[Guide]:
        with self.db.session() as s:
            stmt = select(Guide).order_by(Guide.code)
            if query:
                stmt = stmt.where(or_(Guide.code.ilike(f"%{query}%"), Guide.title.ilike(f"%{query}%")))
            if status:
                stmt = stmt.where(Guide.status == status)
            return list(s.scalars(stmt.limit(limit).offset(offset)))

    def live(self, codes: list[str] | None = None) -> list[GuideData]:
        """The published content citizens are answered from (archived items excluded)."""
        with self.db.session() as s:
            stmt = (select(GuideVersion.data).join(Guide, (Guide.code == GuideVersion.code)
                                                   & (Guide.live_version == GuideVersion.version))
                    .where(Guide.status != "archived"))
            if codes is not None:
                stmt = stmt.where(Guide.code.in_(codes))
            return [GuideData.model_validate(d) for d in s.execute(stmt).scalars()]

    def live_versions(self) -> dict[str, int]:
        """code → live version of every answerable guide (cheap: no content)."""
        with self.db.session() as s:
            rows = s.execute(select(Guide.code, Guide.live_version).where(
                Guide.status != "archived", Guide.live_version.is_not(None)))
            return {code: v for code, v in rows}

    def last_change(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.max(AuditEvent.id))) or 0

    def live_guide(self, code: str) -> GuideData | None:
        with self.db.session() as s:
            guide = s.get(Guide, code)
            if guide is None or guide.live_version is None or guide.status == "archived":
                return None
            row = s.scalars(select(GuideVersion).where(GuideVersion.code == code,
                                                       GuideVersion.version == guide.live_version)).one()
            return GuideData.model_validate(row.data)

    def history(self, code: str) -> list[GuideVersion]:
        with self.db.session() as s:
            return list(s.scalars(select(GuideVersion).where(GuideVersion.code == code.upper())
                                  .order_by(GuideVersion.version)))

    def version(self, code: str, version: int) -> GuideVersion:
        with self.db.session() as s:
            return self._version(s, code, version)

    @staticmethod
    def _version(s: Session, code: str, version: int) -> GuideVersion:
        row = s.scalars(select(GuideVersion).where(
            GuideVersion.code == code.upper(), GuideVersion.version == version)).one_or_none()
        if row is None:
            raise WorkflowError(f"事项 {code} 没有第 {version} 版 / no version {version} of {code}", 404)
        return row

    def diff(self, code: str, a: int, b: int) -> str:
        def lines(v: int) -> list[str]:
            data = self.version(code, v).data
            return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).splitlines()

        return "\n".join(difflib.unified_diff(lines(a), lines(b), f"v{a}", f"v{b}", lineterm=""))

    def audit(self, code: str = "", limit: int = 200) -> list[AuditEvent]:
        with self.db.session() as s:
            stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            if code:
                stmt = stmt.where(AuditEvent.code == code.upper())
            return list(s.scalars(stmt))

    def count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(Guide)) or 0

    # ---- writing --------------------------------------------------------------------------------
    @staticmethod
    def _log(s: Session, actor: str, action: str, code: str, detail: str = "") -> None:
        s.add(AuditEvent(actor=actor, action=action, code=code, detail=detail))

    def save_draft(self, data: GuideData, actor: str, create_only: bool = False) -> Guide:
        with self.db.session() as s:
            guide = s.get(Guide, data.code)
            if guide is None:
                guide = Guide(code=data.code, title=data.title, status="draft", updated_by=actor,
                              draft=data.model_dump(mode="json"))
                s.add(guide)
                self._log(s, actor, "create", data.code)
            elif create_only:
                raise WorkflowError(f"事项编码 {data.code} 已存在 / code {data.code} already exists")
            else:
                if guide.status == "in_review":
                    raise WorkflowError("该事项正在审核，请先撤回或等待审核结果 / guide is in review")
                guide.draft, guide.title, guide.status = data.model_dump(mode="json"), data.title, "draft"
                guide.updated_by, guide.updated_at = actor, utcnow()
                self._log(s, actor, "edit", data.code)
            return guide

    def _transition(self, code: str, actor: str, allowed: set[str], to: str, action: str,
                    comment: str = "") -> Guide:
        with self.db.session() as s:
            guide = s.get(Guide, code.upper())
            if guide is None:
                raise WorkflowError(f"事项 {code} 不存在 / no guide with code {code}", 404)
            if guide.status not in allowed:
                raise WorkflowError(f"当前状态为 {guide.status}，不能执行 {action} / cannot {action} a guide in "
                                    f"status {guide.status}")
            guide.status, guide.review_comment = to, comment
            guide.updated_by, guide.updated_at = actor, utcnow()
            self._log(s, actor, action, guide.code, comment)
            return guide

    def submit(self, code: str, actor: str) -> Guide:
        return self._transition(code, actor, {"draft"}, "in_review", "submit")

    def reject(self, code: str, actor: str, comment: str) -> Guide:
        if not comment.strip():
            raise WorkflowError("驳回时请填写意见 / a rejection needs a comment", 422)
        return self._transition(code, actor, {"in_review"}, "draft", "reject", comment)

    def _publish(self, s: Session, guide: Guide, data: dict[str, Any], actor: str, note: str) -> GuideData:
        latest = s.scalar(select(func.max(GuideVersion.version)).where(GuideVersion.code == guide.code)) or 0
        s.add(GuideVersion(code=guide.code, version=latest + 1, data=data, published_by=actor, note=note))
        guide.live_version, guide.status, guide.draft, guide.title = latest + 1, "published", data, data["title"]
        guide.updated_by, guide.updated_at = actor, utcnow()
        self._log(s, actor, "publish", guide.code, f"v{latest + 1} {note}".strip())
        return GuideData.model_validate(data)

    def approve(self, code: str, actor: str, note: str = "") -> GuideData:
        with self.db.session() as s:
            guide = s.get(Guide, code.upper())
            if guide is None or guide.status != "in_review":
                raise WorkflowError("只有待审核的事项可以发布 / only a guide in review can be published")
            return self._publish(s, guide, guide.draft, actor, note)

    def rollback(self, code: str, to_version: int, actor: str) -> GuideData:
        with self.db.session() as s:
            guide = s.get(Guide, code.upper())
            if guide is None:
                raise WorkflowError(f"事项 {code} 不存在 / no guide with code {code}", 404)
            old = self._version(s, code, to_version)
            return self._publish(s, guide, dict(old.data), actor, f"rollback to v{to_version}")

    def archive(self, code: str, actor: str) -> Guide:
        return self._transition(code, actor, {"draft", "published", "in_review"}, "archived", "archive")

    def publish_directly(self, items: list[GuideData], actor: str, note: str) -> list[GuideData]:
        """Import and first load: write and publish many guides in ONE transaction (all or nothing)."""
        published = []
        with self.db.session() as s:
            for data in items:
                guide = s.get(Guide, data.code)
                if guide is None:
                    guide = Guide(code=data.code, title=data.title, status="draft", updated_by=actor,
                                  draft=data.model_dump(mode="json"))
                    s.add(guide)
                    s.flush()
                published.append(self._publish(s, guide, data.model_dump(mode="json"), actor, note))
        return published


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as (field, reason) pairs for API answers and import reports."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or "(document)", "reason": e["msg"]} for e in exc.errors()]
