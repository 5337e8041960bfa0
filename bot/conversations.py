"""Conversation records: who answers (bot or human), the masked turn log, ratings, the citizen's session,
and the hand-offs (tickets and the human side live in `handoff`)."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from core.clock import utcnow
from core.db import Database
from core.masking import mask_personal_data
from handoff.models import Conversation, TicketMessage
from handoff.tickets import Desk, Opened
from insight.models import Turn

TRANSCRIPT_TURNS = 30


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Conversations:
    def __init__(self, db: Database, desk: Desk) -> None:
        self.db, self.desk = db, desk

    def mode(self, sender_id: str) -> str:
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            return conv.mode if conv else "bot"

    def log(self, sender_id: str, author: str, text: str, decision: str = "", matches: list | None = None,
            latency_ms: int = 0, channel: str = "web", intent: str = "", handoff: bool = False) -> None:
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            if conv is None:
                s.add(Conversation(sender_id=sender_id, channel=channel))
            else:
                conv.last_active_at = utcnow()
            s.add(Turn(sender_id=sender_id, author=author, text=mask_personal_data(text), decision=decision,
                       matches=matches or [], latency_ms=latency_ms, channel=channel, intent=intent,
                       handoff=handoff))

    def rate_last_answer(self, sender_id: str, rating: str) -> bool:
        with self.db.session() as s:
            turn = s.scalars(select(Turn).where(Turn.sender_id == sender_id, Turn.author == "bot",
                                                Turn.decision == "answer").order_by(Turn.id.desc())).first()
            if turn is None:
                return False
            turn.rating = rating
            return True

    def unsatisfied_in_a_row(self, sender_id: str) -> int:
        """How many of the latest rated answers, newest first, the citizen rated unsatisfied."""
        with self.db.session() as s:
            ratings = s.scalars(select(Turn.rating).where(Turn.sender_id == sender_id, Turn.rating != "")
                                .order_by(Turn.id.desc()).limit(5))
            count = 0
            for rating in ratings:
                if rating != "unsatisfied":
                    break
                count += 1
            return count

    # ---- the citizen's browser session ------------------------------------------------------------------
    def start_session(self, sender_id: str, channel: str) -> str | None:
        """On the conversation's first message: a new secret for its HttpOnly cookie (None afterwards)."""
        secret = secrets.token_urlsafe(32)
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id, with_for_update=True)
            if conv is None:
                s.add(Conversation(sender_id=sender_id, channel=channel, session_sha256=_sha256(secret)))
                return secret
            if conv.session_sha256 is None:
                conv.session_sha256 = _sha256(secret)
                return secret
            return None

    def owned_by(self, sender_id: str, secret: str | None) -> bool:
        """Whether `secret` (the cookie) is this conversation's own session."""
        if not secret:
            return False
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            return bool(conv and conv.session_sha256 and hmac.compare_digest(conv.session_sha256, _sha256(secret)))

    def history(self, sender_id: str, limit: int = 200) -> list[dict]:
        """The conversation so far as the citizen saw it: their messages, the bot's, the agents' and the
        system lines of a hand-off, oldest first (masked, as stored)."""
        with self.db.session() as s:
            turns = s.scalars(select(Turn).where(Turn.sender_id == sender_id).order_by(Turn.id.desc()).limit(limit))
            lines = [{"author": t.author, "text": t.text, "at": t.at} for t in turns]
            human = s.scalars(select(TicketMessage).where(TicketMessage.sender_id == sender_id,
                                                          TicketMessage.author.in_(("agent", "system")))
                              .order_by(TicketMessage.id.desc()).limit(limit))
            lines += [{"author": m.author, "text": m.text, "at": m.at, "agent": m.agent} for m in human]
        lines.sort(key=lambda line: line["at"].replace(tzinfo=None))
        return [{**line, "at": line["at"].isoformat()} for line in lines[-limit:]]

    # ---- hand-offs ----------------------------------------------------------------------------------
    def transcript(self, sender_id: str) -> list[dict]:
        """The conversation before the hand-off, with what the bot decided and which items it matched."""
        with self.db.session() as s:
            turns = list(s.scalars(select(Turn).where(Turn.sender_id == sender_id)
                                   .order_by(Turn.id.desc()).limit(TRANSCRIPT_TURNS)))
        return [{"author": t.author, "text": t.text, "decision": t.decision, "matches": t.matches,
                 "at": t.at.isoformat()} for t in reversed(turns)]

    def channel(self, sender_id: str) -> str:
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            return conv.channel if conv else "web"

    def hand_off(self, sender_id: str, reason: str, topic: str = "", category: str = "") -> Opened:
        """The conversation goes to a human: a ticket in the queue with the transcript so far (`topic`: what
        it is about, e.g. a safety topic's title, shown to the agents)."""
        return self.desk.open(sender_id, self.channel(sender_id), "handoff", reason, self.transcript(sender_id),
                              category=category, topic=topic)

    def open_ticket(self, kind: str, sender_id: str, transcript: list[dict], category: str = "",
                    content: str = "", contact: str = "") -> int:
        """A complaint or suggestion for the queue (the conversation stays with the bot): `category` is the
        citizen's own (e.g. 服务态度), kept as the ticket's topic."""
        opened = self.desk.open(sender_id, self.channel(sender_id), kind, "complaint" if kind == "complaint" else kind,
                                transcript, content=content, contact=contact, live=False, topic=category)
        return opened.ticket.id
