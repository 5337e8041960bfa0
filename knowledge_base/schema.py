"""The service-guide document: every field a 办事指南 carries, validated with clear messages."""
from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
ATTRIBUTES = ("materials", "fee", "time_limit", "location", "office_hours", "phone", "conditions", "online", "steps")


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
