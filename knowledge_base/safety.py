"""The safety policy as knowledge-base data: the topics (self-harm, emergencies, domestic violence, corruption
reports, medical, legal, political, petitions) that are answered before anything else, how each is recognised
(keywords, example phrasings) and what the citizen is told (response, hotlines, a human at once, related
services). Editors change it like the rest of the knowledge base: validated, and every change audited.

Recognising messages is the bot's job (`bot/safety.py`); this module only keeps the policy. The shipped
topics (`knowledge_base/sample/safety.yml`) are written once, on the first start of an instance whose audit
log has never seen the policy, so a city that edits or switches topics off keeps its choice."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import Field, field_validator, model_validator
from sqlalchemy import func, select

from core.db import Database
from knowledge_base.models import AuditEvent, Guide, SafetyTopic
from knowledge_base.schema import CODE_PATTERN, _Doc
from knowledge_base.workflow import WorkflowError

SAFETY_LOG_CODE = "SAFETY"  # the audit-log code of policy changes (guide codes always have a dash)
SAMPLE_POLICY = Path(__file__).parent / "sample" / "safety.yml"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
PHONE_NUMBER = re.compile(r"^[0-9][0-9-]{2,19}$")

Phrase = Field(min_length=1, max_length=40)


class Hotline(_Doc):
    name: str = Field(min_length=1, max_length=30)  # 心理援助热线
    number: str = Field(min_length=3, max_length=20)  # 12356
    note: str = Field("", max_length=30)  # 24小时

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: object) -> object:
        v = str(v).strip() if isinstance(v, (int, str)) else v
        if isinstance(v, str) and not PHONE_NUMBER.match(v):
            raise ValueError(f"电话号码只能含数字和短横线，例如 12356 或 010-12345678 / not a phone number: {v}")
        return v

    def text(self) -> str:
        return f"{self.name} {self.number}" + (f"（{self.note}）" if self.note else "")


class RelatedService(_Doc):
    """A knowledge-base item offered as a button when the message names one of `when` (失业 → 失业保险金申领)."""

    code: str
    when: list[str] = Field(min_length=1)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        v = v.strip().upper()
        if not CODE_PATTERN.match(v):
            raise ValueError("事项编码格式应为大写字母和数字，用短横线分段，例如 RS-03 / code must look like RS-03")
        return v


class SafetyTopicDoc(_Doc):
    key: str
    title: str = Field(min_length=1, max_length=40)
    enabled: bool = True
    priority: int = Field(0, ge=0, le=1000)  # when several topics match, the highest answers
    handoff: bool = False  # an urgent ticket and the conversation goes to a human at once
    keywords: list[str] = []
    exceptions: list[str] = []  # phrases holding a keyword that are not the topic (跳楼价)
    examples: list[str] = []  # phrasings the message is compared with (embeddings)
    response: str = Field(min_length=1, max_length=1000)
    lines: list[Hotline] = []
    related: list[RelatedService] = []

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        v = v.strip()
        if not KEY_PATTERN.match(v):
            raise ValueError("话题标识应为小写字母开头的小写字母、数字和下划线（2–40 个），例如 self_harm / "
                             "key must look like self_harm")
        return v

    @field_validator("keywords", "exceptions", "examples")
    @classmethod
    def _phrases(cls, v: list[str], info) -> list[str]:
        longest = 100 if info.field_name == "examples" else 20
        out: list[str] = []
        for phrase in (p.strip() for p in v):
            if not phrase:
                raise ValueError("不能有空的条目 / entries must not be empty")
            if len(phrase) > longest:
                raise ValueError(f"“{phrase[:20]}…”超过 {longest} 个字 / longer than {longest} characters")
            if phrase not in out:
                out.append(phrase)
        return out

    @model_validator(mode="after")
    def _recognisable(self) -> "SafetyTopicDoc":
        if not (self.keywords or self.examples):
            raise ValueError("至少要有一个关键词或一个典型说法，否则这个话题永远识别不到 / "
                             "give at least one keyword or example")
        return self


def load_sample_policy(path: Path = SAMPLE_POLICY) -> list[SafetyTopicDoc]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [SafetyTopicDoc.model_validate(t) for t in raw.get("topics") or []]


class SafetyPolicy:
    """The stored topics: read by the bot on every message (cheaply: `last_change` tells when to re-read),
    written by editors through the API."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def entries(self) -> list[tuple[SafetyTopicDoc, SafetyTopic]]:
        """Every topic with its row (who changed it, when), the highest priority first."""
        with self.db.session() as s:
            rows = s.scalars(select(SafetyTopic).order_by(SafetyTopic.key))
            pairs = [(SafetyTopicDoc.model_validate(r.data), r) for r in rows]
        return sorted(pairs, key=lambda pair: -pair[0].priority)

    def topics(self) -> list[SafetyTopicDoc]:
        return [doc for doc, _ in self.entries()]

    def get(self, key: str) -> tuple[SafetyTopicDoc, SafetyTopic]:
        with self.db.session() as s:
            row = s.get(SafetyTopic, key)
            if row is None:
                raise WorkflowError(f"没有安全话题 {key} / no safety topic {key}", 404)
            return SafetyTopicDoc.model_validate(row.data), row

    def last_change(self) -> int:
        """The audit id of the latest policy change (0: never written)."""
        with self.db.session() as s:
            return s.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.code == SAFETY_LOG_CODE)) or 0

    def put(self, doc: SafetyTopicDoc, actor: str) -> SafetyTopic:
        """Create or replace a topic; the audit event names the fields that changed."""
        with self.db.session() as s:
            missing = sorted({r.code for r in doc.related} - set(
                s.scalars(select(Guide.code).where(Guide.code.in_([r.code for r in doc.related])))))
            if missing:
                raise WorkflowError(f"知识库中没有事项 {', '.join(missing)}，请先核对编码 / no guide {', '.join(missing)}",
                                    422)
            data = doc.model_dump()
            row = s.get(SafetyTopic, doc.key)
            if row is None:
                row = SafetyTopic(key=doc.key, data=data, updated_by=actor)
                s.add(row)
                s.add(AuditEvent(actor=actor, action="safety_add", code=SAFETY_LOG_CODE, detail=f"{doc.key} {doc.title}"))
                return row
            changed = [k for k in data if row.data.get(k) != data[k]]
            if changed:
                row.data, row.updated_by = data, actor
                s.add(AuditEvent(actor=actor, action="safety_update", code=SAFETY_LOG_CODE,
                                 detail=f"{doc.key}: {', '.join(changed)}"))
            return row

    def seed(self, docs: list[SafetyTopicDoc], actor: str) -> bool:
        """Write the shipped topics once: only when the audit log has never seen the policy."""
        if self.last_change():
            return False
        with self.db.session() as s:
            known = set(s.scalars(select(Guide.code)))
            for doc in docs:  # related services the knowledge base lacks (a city's own) are left out
                doc = doc.model_copy(update={"related": [r for r in doc.related if r.code in known]})
                s.add(SafetyTopic(key=doc.key, data=doc.model_dump(), updated_by=actor))
            s.add(AuditEvent(actor=actor, action="safety_seed", code=SAFETY_LOG_CODE,
                             detail=", ".join(d.key for d in docs)))
        return True
