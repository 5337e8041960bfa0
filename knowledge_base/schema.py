"""The service-guide document: every field a 办事指南 carries, validated with clear messages."""
from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Material(_Doc):
    name: str = Field(min_length=1)
    form: str = "原件"
    count: int = Field(default=1, ge=0)
    notes: str = ""


class TimeLimit(_Doc):
    legal: str = ""
    promised: str = ""


class OnlineEntry(_Doc):
    url: str = ""
    mini_program_path: str = ""


class Faq(_Doc):
    question: str = Field(min_length=1)
    similar_questions: list[str] = []
    answer: str = Field(min_length=1)

    @field_validator("similar_questions", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):  # spreadsheets give "a|b" or one per line
            return [s.strip() for s in re.split(r"[|\n]", v) if s.strip()]
        return v


class GuideData(_Doc):
    """The editable content of one guide; workflow state lives beside it, not in it."""

    code: str
    title: str = Field(min_length=1)
    department: str = ""
    region: str = "本市"
    theme: str = ""
    target_group: str = ""
    conditions: list[str] = []
    materials: list[Material] = []
    steps: list[str] = []
    fee: str = ""
    benefit: str = ""  # what the citizen receives (待遇/补贴标准), for items that pay money; fee is what they pay
    time_limit: TimeLimit = TimeLimit()
    location: str = ""
    office_hours: str = ""
    phone: str = ""
    online: OnlineEntry = OnlineEntry()
    legal_basis: list[str] = []
    keywords: list[str] = []
    faqs: list[Faq] = []
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        v = v.strip().upper()
        if not CODE_PATTERN.match(v):
            raise ValueError("事项编码格式应为大写字母和数字，用短横线分段，例如 GA-CR-01 / code must look like GA-CR-01")
        return v

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v

    @field_validator("valid_to")
    @classmethod
    def _period(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("valid_from")
        if v is not None and start is not None and v < start:
            raise ValueError(f"有效期止（{v}）早于有效期起（{start}）/ valid_to is before valid_from")
        return v

    def is_valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def missing_fields(self) -> list[str]:
        """Guide fields left empty (the sample knowledge base must have none)."""
        empty = []
        for name in ("department", "region", "theme", "target_group", "conditions", "materials", "steps",
                     "fee", "location", "office_hours", "phone", "legal_basis", "keywords", "faqs"):
            if not getattr(self, name):
                empty.append(name)
        if not (self.time_limit.legal and self.time_limit.promised):
            empty.append("time_limit")
        if not (self.online.url or self.online.mini_program_path):
            empty.append("online")
        return empty


GuideStatus = Literal["draft", "in_review", "published", "archived"]


AliasKind = Literal["alias", "typo"]


class AliasDoc(_Doc):
    """One entry of the query dictionary: a colloquial name or a misspelling, and the guides' wording."""

    term: str = Field(min_length=1, max_length=80)
    canonical: str = Field(min_length=1, max_length=80)
    kind: AliasKind = "alias"

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: object) -> object:
        return {"": "alias", "别名": "alias", "错别字": "typo"}.get(v, v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _not_circular(self) -> "AliasDoc":
        if self.term == self.canonical:
            raise ValueError("别名与规范说法相同，无需收录 / the term equals its canonical wording")
        if self.term in self.canonical:
            raise ValueError(f"“{self.term}”是“{self.canonical}”的一部分，替换后会重复叠加，请改用更完整的说法 / "
                             "the term must not be part of its canonical wording")
        return self


def dictionary_problems(entries: list[AliasDoc]) -> list[tuple[int, str, str]]:
    """Entries that cannot stand together, as (index, field, reason): a term listed twice. (A term may be
    another entry's canonical wording: 低宝 → 低保 and 低保 → 最低生活保障 both stand; questions are rewritten
    in one pass, so entries never chain.)"""
    problems, first = [], {}
    for i, e in enumerate(entries):
        if e.term in first:
            problems.append((i, "term", f"“{e.term}”重复（与第 {first[e.term] + 1} 条相同）/ listed twice"))
            continue
        first[e.term] = i
    return problems
