"""Tables the channels keep: WeChat identities, seen message ids, the outbox, access tokens, mini-program sessions."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base


class ChannelIdentity(Base):
    """A WeChat user (openid of one app) mapped to our conversation id, with the options last offered to them."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    sender_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # wx-oa | wx-mp
    external_id: Mapped[str] = mapped_column(String(64))  # the openid
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_inbound_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    offered: Mapped[list] = mapped_column(JSON, default=list)  # [{"title", "payload"}] answered by "1", "2", …


class SeenMessage(Base):
    """One row per accepted push (MsgId, or sender + CreateTime for events): a retry fails the unique insert."""

    __tablename__ = "channel_seen_messages"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxMessage(Base):
    """An answer sent through the customer-service API: pending until WeChat accepts (sent) or refuses (failed)."""

    __tablename__ = "channel_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    question: Mapped[str] = mapped_column(Text)  # masked, like every stored citizen text
    text: Mapped[str] = mapped_column(Text, default="")  # the answer (masked); empty while pending
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending | sent | failed
    errcode: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AccessToken(Base):
    """The app's current WeChat access_token, shared by every replica so that they do not refresh it in turn."""

    __tablename__ = "channel_access_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(600))
    expires_at: Mapped[int] = mapped_column(Integer)  # Unix seconds: compares the same on every database


class MiniProgramSession(Base):
    """Our session for a signed-in mini-program user: only the token's SHA-256 is kept, with the openid."""

    __tablename__ = "miniprogram_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)  # Unix seconds
