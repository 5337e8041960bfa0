"""The catch-up pass: counts the turns logged since its last run into the rollup tables.

It remembers the last turn id it counted and moves that cursor with a compare-and-set in the same
transaction as the counts, so two processes running it at once never count a turn twice (the loser's
transaction is rolled back). Turns younger than `settle_seconds` wait for the next pass: on PostgreSQL a
smaller id can commit after a larger one, and the cursor must never jump over it.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.db import Database
from insight.buckets import day_of_hour, hour_of, local_hour_of_day, month_of_day
from insight.models import (MONTHLY, DailyCount, LatencyDaily, QuestionDaily, QuestionHourOfDay, RollupCursor,
                            ServiceDaily, Turn)

CURSOR = "turns"
QUESTION_MAX = 200


def question_key(text: str) -> str | None:
    """How a citizen message is counted among the top questions; button payloads ("/intent{…}") are not."""
    key = " ".join(text.split())[:QUESTION_MAX]
    return key if key and not key.startswith("/") else None


def _add(s: Session, model: type, keys: tuple[str, ...], counts: Counter) -> None:
    """counts: key tuple → n, added to what the table already holds (insert or add, one statement)."""
    if not counts:
        return
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = model.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={"n": table.c.n + stmt.excluded.n})
    s.execute(stmt, [dict(zip(keys, k), n=n) for k, n in counts.items()])


def _count(turns: list) -> dict[type, Counter]:
    daily, hour_of_day, services, latency, questions = Counter(), Counter(), Counter(), Counter(), Counter()
    for t in turns:
        hour = hour_of(t.at)
        day = day_of_hour(hour)
        decision = t.decision if t.author == "bot" else ""
        daily[(day, t.channel, t.author, decision, bool(t.handoff and t.author == "bot"))] += 1
        if t.author == "bot":
            latency[(day, t.latency_ms)] += 1
            if t.decision == "answer" and t.matches:
                services[(day, t.matches[0]["code"])] += 1
        elif t.author == "citizen":
            hour_of_day[(day, local_hour_of_day(hour))] += 1
            if key := question_key(t.text):
                questions[(day, key)] += 1
    counts = {DailyCount: daily, QuestionHourOfDay: hour_of_day, ServiceDaily: services, LatencyDaily: latency,
              QuestionDaily: questions}
    for model, monthly in MONTHLY.items():  # the same counts per month: (day, key) → (month, key)
        by_month: Counter = Counter()
        for (day, key), n in counts[model].items():
            by_month[(month_of_day(day), key)] += n
        counts[monthly] = by_month
    return counts


KEYS = {model: tuple(c.name for c in model.__table__.primary_key.columns)
        for model in (DailyCount, QuestionHourOfDay, *MONTHLY, *MONTHLY.values())}


def catch_up(db: Database, settle_seconds: float = 2.0, batch: int = 20000) -> int:
    """Count every settled turn not counted yet; returns how many were counted by this call."""
    counted = 0
    while True:
        try:
            n = _one_batch(db, settle_seconds, batch)
        except (OperationalError, IntegrityError):  # another process is counting (SQLite lock, first cursor)
            return counted
        counted += n
        if n < batch:
            return counted


def _one_batch(db: Database, settle_seconds: float, batch: int) -> int:
    horizon = utcnow() - dt.timedelta(seconds=settle_seconds)
    with db.session() as s:
        cursor = s.get(RollupCursor, CURSOR)
        if cursor is None:
            s.add(RollupCursor(name=CURSOR, last_id=0))
            s.flush()
            start = 0
        else:
            start = cursor.last_id
        cols = (Turn.id, Turn.at, Turn.author, Turn.channel, Turn.decision, Turn.handoff, Turn.latency_ms,
                Turn.matches, Turn.text)
        rows = s.execute(select(*cols).where(Turn.id > start).order_by(Turn.id).limit(batch)).all()
        settled = []
        for r in rows:
            at = r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.timezone.utc)
            if at > horizon:
                break
            settled.append(r)
        if not settled:
            return 0
        moved = s.execute(update(RollupCursor).where(RollupCursor.name == CURSOR, RollupCursor.last_id == start)
                          .values(last_id=settled[-1].id)).rowcount
        if moved != 1:  # another pass got there first: count nothing here
            s.rollback()
            return 0
        for model, counts in _count(settled).items():
            _add(s, model, KEYS[model], counts)
        return len(settled)
