"""Tables the dialogue writes (the turn log lives in insight.models, conversations and tickets in
handoff.models): appointments and their per-slot seat counters, sample applications, phone-tail lockouts."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from core.clock import utcnow


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


class SlotSeats(Base):
    """Seats taken in one (service, day, slot): the row every booking, cancel and reschedule updates with a
    conditional UPDATE, so capacity holds under concurrency on SQLite and PostgreSQL alike."""

    __tablename__ = "appointment_slots"
    __table_args__ = (CheckConstraint("taken >= 0", name="ck_appointment_slots_taken"),)

    service_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    slot: Mapped[str] = mapped_column(String(11), primary_key=True)  # canonical "HH:MM-HH:MM"
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Application(Base):
    """Applications in the approval system, for progress queries (sample rows in the demo)."""

    __tablename__ = "applications"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone_tail: Mapped[str] = mapped_column(String(4))
    service_title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class TailLockout(Base):
    """Wrong phone-tail answers for one subject ("application:SQ…", "appointment:ABC123") and, after too
    many, until when it is locked; in the database so the lock holds across processes."""

    __tablename__ = "tail_lockouts"

    subject: Mapped[str] = mapped_column(String(60), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def insert_missing(session: Session, model: type[Base], **row: Any) -> None:
    """INSERT the row unless its primary key exists (ON CONFLICT DO NOTHING). As a write, it also makes
    SQLite take the write lock first, so the read-modify-write that follows cannot interleave."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[session.get_bind().dialect.name]
    session.execute(dialect.insert(model).values(**row).on_conflict_do_nothing())
