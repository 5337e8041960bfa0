"""The phone-tail check that guards progress queries and booking changes: the last 4 digits of the phone on
record, compared in constant time; 5 wrong answers lock the subject (an application number, a booking code)
for 15 minutes. The count and the lock live in the database, so they hold across processes and replicas."""
from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from bot.models import TailLockout, insert_missing
from core.clock import utcnow
from core.db import Database

MAX_WRONG_TAILS = 5
LOCKOUT = dt.timedelta(minutes=15)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; every stored moment is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def locked_message(what: str, until: dt.datetime) -> str:
    return (f"为保护您的信息安全，该{what}因手机号后4位多次输入错误，已暂时锁定15分钟。"
            f"请在 {until.astimezone().strftime('%H:%M')} 之后再试，或拨打12345热线咨询。")


@dataclass(frozen=True)
class TailVerdict:
    ok: bool
    attempts_left: int = 0
    locked_until: dt.datetime | None = None

    def refusal(self, what: str) -> str | None:
        """What to tell the citizen (`what`: 办件 / 预约) when the answer was wrong or the subject is locked."""
        if self.ok:
            return None
        if self.locked_until is not None:
            return locked_message(what, self.locked_until)
        return f"手机号后4位与{what}登记的号码不一致，请重新输入（还可尝试{self.attempts_left}次）。"


class TailCheck:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db, self.clock = db, clock

    def locked_until(self, subject: str) -> dt.datetime | None:
        with self.db.session() as s:
            row = s.get(TailLockout, subject)
            until = _aware(row.locked_until) if row and row.locked_until else None
        return until if until and until > self.clock() else None

    def check(self, subject: str, expected: str, given: str) -> TailVerdict:
        """One answer for `subject`, judged and counted in one write transaction (the row is locked
        first), so parallel guesses are counted one after the other and none slips past the lock."""
        with self.db.session() as s:
            insert_missing(s, TailLockout, subject=subject, failures=0)
            row = s.scalars(select(TailLockout).where(TailLockout.subject == subject).with_for_update()).one()
            now = self.clock()
            if row.locked_until is not None:
                if _aware(row.locked_until) > now:
                    return TailVerdict(False, locked_until=_aware(row.locked_until))
                row.failures, row.locked_until = 0, None  # the lock ran out: a fresh start
            if len(expected) == 4 and hmac.compare_digest(expected.encode(), given.encode()):
                s.delete(row)
                return TailVerdict(True)
            row.failures += 1
            if row.failures >= MAX_WRONG_TAILS:
                row.locked_until = now + LOCKOUT
                return TailVerdict(False, locked_until=row.locked_until)
            return TailVerdict(False, attempts_left=MAX_WRONG_TAILS - row.failures)
