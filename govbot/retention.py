"""`govbot purge --older-than 180d`: data retention. Deletes what citizens left behind longer ago than the
retention period: the turn log (after the dashboard's figures have counted it), conversations quiet since then
(and their Rasa tracker events), closed tickets with their messages, and appointments of days long past.
Aggregated figures (no personal data) and the knowledge base stay."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import bindparam, create_engine, delete, inspect, select, text

from bot.models import Appointment, SlotSeats
from core.clock import utcnow
from core.db import Database
from handoff.models import Conversation, Ticket, TicketMessage
from insight.models import Turn
from insight.rollup import catch_up

CLOSED = ("resolved", "closed")


def parse_age(value: str) -> dt.timedelta:
    """'180d' (days) or '26w' (weeks)."""
    match = re.fullmatch(r"(\d+)([dw])", value.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a number of days or weeks such as 180d or 26w, not {value!r}")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    return dt.timedelta(days=days)


def purge(db: Database, tracker_url: str, older_than: dt.timedelta, now: dt.datetime | None = None) -> dict[str, int]:
    """Deletes everything older than `older_than`; returns how many rows of each kind went."""
    cutoff = (now or utcnow()) - older_than
    catch_up(db, settle_seconds=0)  # the figures keep what the turn log said
    removed: dict[str, int] = {}
    with db.session() as s:
        open_senders = select(Ticket.sender_id).where(Ticket.status.not_in(CLOSED))
        closed = select(Ticket.id).where(Ticket.status.in_(CLOSED), Ticket.closed_at < cutoff)
        removed["ticket messages"] = s.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(closed))).rowcount
        removed["closed tickets"] = s.execute(delete(Ticket).where(Ticket.id.in_(closed))).rowcount
        removed["turns"] = s.execute(delete(Turn).where(Turn.at < cutoff)).rowcount
        removed["conversations"] = s.execute(delete(Conversation).where(
            Conversation.last_active_at < cutoff, Conversation.sender_id.not_in(open_senders))).rowcount
        removed["appointments"] = s.execute(delete(Appointment).where(Appointment.day < cutoff.date())).rowcount
        s.execute(delete(SlotSeats).where(SlotSeats.day < cutoff.date()))
    removed["rasa conversations"] = _purge_tracker(tracker_url, cutoff)
    return removed


def _purge_tracker(tracker_url: str, cutoff: dt.datetime) -> int:
    """Rasa's SQL tracker store: every event of the conversations whose last event is older than the cutoff
    (a conversation still going keeps its whole session)."""
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", tracker_url)
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as conn:
            stale = conn.execute(text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :t"),
                                 {"t": cutoff.timestamp()}).scalars().all()
            for start in range(0, len(stale), 500):
                conn.execute(text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)), {"ids": stale[start:start + 500]})
        return len(stale)
    finally:
        engine.dispose()
