"""The turn log the dialogue writes, and the rollups that keep the dashboard fast on a year of traffic.

Rollups are filled by a catch-up pass (`insight.rollup`) that remembers the last turn id it counted.
Buckets: `day` = local days since the epoch (China time); `month` = local year * 12 + month - 1. The tables
that grow with the variety of traffic (services, latencies, question texts) are kept per day and per month, so a
long period reads its whole months plus the days at its edges. Ratings are not rolled up: a rating is set on an
old turn later, so they are read from `turns` itself.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base


class Turn(Base):
    """One message in or out. Text is stored masked; `rating` is set when the citizen rates the answer;
    `handoff` marks the bot reply that transferred the citizen to a human agent."""

    __tablename__ = "turns"
    __table_args__ = (Index("ix_turns_rating_at", "rating", "at"),
                      Index("ix_turns_sender_id_id", "sender_id", "id"))  # a conversation's turns in order

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    author: Mapped[str] = mapped_column(String(10))  # citizen | bot | agent
    text: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(10), default="")
    matches: Mapped[list] = mapped_column(JSON, default=list)
    rating: Mapped[str] = mapped_column(String(12), default="")
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(20), default="web", server_default="web")
    intent: Mapped[str] = mapped_column(String(60), default="", server_default="")
    handoff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


CLUSTERED = {"sqlite_with_rowid": False}  # SQLite keeps rows in key order: a day range is one contiguous read


class DailyCount(Base):
    """Turns per local day, channel, author, decision and hand-off flag."""

    __tablename__ = "insight_daily"
    __table_args__ = CLUSTERED

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    author: Mapped[str] = mapped_column(String(10), primary_key=True)
    decision: Mapped[str] = mapped_column(String(10), primary_key=True)
    handoff: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class QuestionHourOfDay(Base):
    """Citizen questions per local day and local hour of the day (0–23)."""

    __tablename__ = "insight_hour_of_day"
    __table_args__ = CLUSTERED

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ServiceDaily(Base):
    """Answers per local day and answered service (the first match's code)."""

    __tablename__ = "insight_service_daily"
    __table_args__ = CLUSTERED

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ServiceMonthly(Base):
    __tablename__ = "insight_service_monthly"
    __table_args__ = CLUSTERED

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class LatencyDaily(Base):
    """Bot replies per local day and latency in whole milliseconds: exact percentiles over any day range."""

    __tablename__ = "insight_latency_daily"
    __table_args__ = CLUSTERED

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    latency_ms: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class LatencyMonthly(Base):
    __tablename__ = "insight_latency_monthly"
    __table_args__ = CLUSTERED

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    latency_ms: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class QuestionDaily(Base):
    """Citizen questions per local day and (masked, whitespace-normalised) text."""

    __tablename__ = "insight_question_daily"
    __table_args__ = CLUSTERED

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class QuestionMonthly(Base):
    __tablename__ = "insight_question_monthly"
    __table_args__ = CLUSTERED

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


MONTHLY = {ServiceDaily: ServiceMonthly, LatencyDaily: LatencyMonthly, QuestionDaily: QuestionMonthly}


class RollupCursor(Base):
    """The last turn id the catch-up pass has counted."""

    __tablename__ = "insight_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)


class GapCluster(Base):
    """Questions the bot could not answer well, grouped by meaning; an editor turns one into a draft."""

    __tablename__ = "insight_gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    examples: Mapped[list] = mapped_column(JSON)  # [{"text", "n"}], most asked first
    this_week: Mapped[int] = mapped_column(Integer, default=0)
    last_week: Mapped[int] = mapped_column(Integer, default=0)
    near_code: Mapped[str] = mapped_column(String(40), default="")  # the service they came closest to
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | drafted | resolved
    draft_code: Mapped[str] = mapped_column(String(40), default="")
    answered_at_mining: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. answers rated unsatisfied
    checked_change: Mapped[int] = mapped_column(Integer, default=0)  # KB audit id of the last resolution check
    mined_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
