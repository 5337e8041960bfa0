"""Tables of the hand-off: conversations (who answers), tickets, the messages of a ticket, agents' presence."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base

CATEGORIES = ("咨询", "投诉", "建议", "求助")
PRIORITIES = ("urgent", "high", "normal", "low")
STATUSES = ("new", "assigned", "waiting", "resolved", "closed")  # waiting: for the citizen
OPEN_STATUSES = ("new", "assigned", "waiting")


class Conversation(Base):
    """One citizen's conversation on one channel; `mode` says who answers: the bot or a human agent.
    `session_sha256` is the hash of the HttpOnly cookie the chat API set on the first message: only that
    browser may read the conversation back or listen to it."""

    __tablename__ = "conversations"

    sender_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    mode: Mapped[str] = mapped_column(String(10), default="bot")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_active_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    session_sha256: Mapped[str | None] = mapped_column(String(64), default=None)


class Ticket(Base):
    """Work for a human: a hand-off, a complaint or a suggestion. `transcript` is the conversation up to the
    hand-off (with the bot's decisions and matched items); what follows is in `ticket_messages`."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_due", "status", "sla_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))  # handoff | complaint | suggestion
    reason: Mapped[str] = mapped_column(String(20), default="")  # asked | not_understood | unsatisfied | complaint | sensitive | agent
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    category: Mapped[str] = mapped_column(String(40), default="")  # 咨询 | 投诉 | 建议 | 求助
    topic: Mapped[str] = mapped_column(String(40), default="")  # a complaint's own category (e.g. 服务态度)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    skill_group: Mapped[str] = mapped_column(String(60), default="")  # the department of the matched item
    content: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(40), default="")  # a phone the citizen gave for a call back
    callback: Mapped[bool] = mapped_column(Boolean, default=False)  # asked for outside working hours
    transcript: Mapped[list] = mapped_column(JSON, default=list)
    assignee: Mapped[str] = mapped_column(String(80), default="", index=True)
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")
    related_codes: Mapped[list] = mapped_column(JSON, default=list)  # KB items it drew on or created
    rating: Mapped[str] = mapped_column(String(12), default="")  # the citizen's rating of the human service
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class TicketMessage(Base):
    """A message of the human part of a conversation: citizen, agent, system (shown to both) or note
    (agents only). Text is stored masked; `delivery` says how an agent's message reached the citizen."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    author: Mapped[str] = mapped_column(String(10))  # citizen | agent | system | note
    agent: Mapped[str] = mapped_column(String(80), default="")
    text: Mapped[str] = mapped_column(Text)
    delivery: Mapped[str] = mapped_column(String(12), default="")  # websocket | wechat | failed
    error: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Agent(Base):
    """An agent's presence (heartbeat from the console) and skill groups; offline agents' tickets go back."""

    __tablename__ = "handoff_agents"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    skills: Mapped[list] = mapped_column(JSON, default=list)  # skill groups; empty: any
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
