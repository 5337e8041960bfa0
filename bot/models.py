"""Tables the dialogue writes (the turn log lives in insight.models): hand-off/complaint tickets,
appointments, sample applications."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.clock import utcnow


class Conversation(Base):
    """One citizen's conversation on one channel; `mode` says who answers: the bot or a human agent."""

    __tablename__ = "conversations"

    sender_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    mode: Mapped[str] = mapped_column(String(10), default="bot")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ticket(Base):
    """Work for a human: a hand-off, a complaint or a suggestion, with the transcript at the time."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))  # handoff | complaint | suggestion
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    category: Mapped[str] = mapped_column(String(40), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(40), default="")
    transcript: Mapped[list] = mapped_column(JSON, default=list)
    assignee: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Appointment(Base):
    __tablename__ = "appointments"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    service_code: Mapped[str] = mapped_column(String(40))
    service_title: Mapped[str] = mapped_column(String(200))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="booked")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Application(Base):
    """Applications in the approval system, for progress queries (sample rows in the demo)."""

    __tablename__ = "applications"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone_tail: Mapped[str] = mapped_column(String(4))
    service_title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
