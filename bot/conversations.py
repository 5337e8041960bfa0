"""Conversation records: who answers (bot or human), the masked turn log, ratings, tickets."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Conversation, Ticket
from core.db import Database
from core.masking import mask_personal_data
from insight.models import Turn


class Conversations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def mode(self, sender_id: str) -> str:
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            return conv.mode if conv else "bot"

    def set_mode(self, sender_id: str, mode: str, channel: str = "web") -> None:
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id) or Conversation(sender_id=sender_id, channel=channel)
            conv.mode = mode
            s.add(conv)

    def log(self, sender_id: str, author: str, text: str, decision: str = "", matches: list | None = None,
            latency_ms: int = 0, channel: str = "web", intent: str = "", handoff: bool = False) -> None:
        with self.db.session() as s:
            if s.get(Conversation, sender_id) is None:
                s.add(Conversation(sender_id=sender_id, channel=channel))
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

    def open_ticket(self, kind: str, sender_id: str, transcript: list[dict], category: str = "",
                    content: str = "", contact: str = "") -> int:
        masked = [{**line, "text": mask_personal_data(line["text"])} for line in transcript]
        with self.db.session() as s:
            ticket = Ticket(kind=kind, sender_id=sender_id, transcript=masked, category=category,
                            content=mask_personal_data(content), contact=contact)
            s.add(ticket)
            s.flush()
            return ticket.id
