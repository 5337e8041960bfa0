"""Seat capacity and the phone-tail lockout under parallel requests, on SQLite and on PostgreSQL."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.appointments import CAPACITY_PER_SLOT, Booking, BookingRefused
from bot.models import Appointment, SlotSeats
from bot.tail_check import MAX_WRONG_TAILS, TailCheck
from core.db import Database
from govbot.migrations import upgrade
from tests.test_postgres import pg_url  # noqa: F401  (fixture: a fresh schema on the local server)

MONDAY = dt.date(2026, 11, 23)
WEDNESDAY = MONDAY + dt.timedelta(days=2)
PARALLEL = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'govbot.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url)
    upgrade(database)
    yield database
    database.engine.dispose()


def _in_parallel(fn, n: int = PARALLEL) -> list:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))


def test_twenty_parallel_bookings_fill_a_ten_seat_slot_exactly(db):
    booking = Booking(db, today=lambda: MONDAY)

    def book(i: int) -> str:
        slot = "9:00-10:00" if i % 2 else " 09:00-10:00 "  # spellings of one slot
        try:
            booking.book(f"citizen-{i}", "GA-CR-01", "普通护照申领", WEDNESDAY, slot, "王小明", f"1381234{i:04d}")
            return "booked"
        except BookingRefused:
            return "full"

    results = _in_parallel(book)
    assert results.count("booked") == CAPACITY_PER_SLOT and results.count("full") == PARALLEL - CAPACITY_PER_SLOT
    with db.session() as s:
        slots = s.execute(select(Appointment.slot, func.count()).group_by(Appointment.slot)).all()
        seats = s.scalars(select(SlotSeats)).one()
    assert slots == [("09:00-10:00", CAPACITY_PER_SLOT)]
    assert (seats.slot, seats.taken) == ("09:00-10:00", CAPACITY_PER_SLOT)
    assert booking.free_slots("GA-CR-01", WEDNESDAY)[0][0] == "10:00-11:00"


def test_parallel_cancels_free_each_seat_once(db):
    booking = Booking(db, today=lambda: MONDAY)
    appt = booking.book("owner", "GA-CR-01", "普通护照申领", WEDNESDAY, "10:00-11:00", "王小明", "13812345678")

    def cancel(_: int) -> bool:
        try:
            return booking.cancel(appt.code, "owner", "5678").status == "cancelled"
        except BookingRefused:
            return False

    assert _in_parallel(cancel, 8).count(True) == 1
    with db.session() as s:
        assert s.get(SlotSeats, ("GA-CR-01", WEDNESDAY, "10:00-11:00")).taken == 0


def test_parallel_wrong_tails_are_counted_one_by_one_and_lock(db):
    tails = TailCheck(db)
    verdicts = _in_parallel(lambda i: tails.check("application:SQ20261102001", "5678", f"{i:04d}"))
    wrong = [v for v in verdicts if not v.ok and v.locked_until is None]
    locked = [v for v in verdicts if v.locked_until is not None]
    assert len(wrong) == MAX_WRONG_TAILS - 1 and len(locked) == PARALLEL - len(wrong)
    assert sorted(v.attempts_left for v in wrong) == list(range(1, MAX_WRONG_TAILS))
    assert not tails.check("application:SQ20261102001", "5678", "5678").ok  # the right tail waits too
