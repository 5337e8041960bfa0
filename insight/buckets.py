"""Time buckets shared by the rollups and the queries: local (China, UTC+8) days, hours and months."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

LOCAL_OFFSET_HOURS = 8  # China Standard Time all year (no daylight saving)
EPOCH = dt.date(1970, 1, 1)


def hour_of(at: dt.datetime) -> int:
    """Whole UTC hours since the epoch; a naive time (SQLite gives those back) is UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return int(at.timestamp()) // 3600


def day_of_hour(hour: int) -> int:
    return (hour + LOCAL_OFFSET_HOURS) // 24


def local_hour_of_day(hour: int) -> int:
    return (hour + LOCAL_OFFSET_HOURS) % 24


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def date_of(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=day)


@lru_cache(maxsize=4096)
def month_of_day(day: int) -> int:
    """Local year * 12 + month - 1."""
    date = date_of(day)
    return date.year * 12 + date.month - 1


def first_day_of_month(month: int) -> int:
    return day_number(dt.date(month // 12, month % 12 + 1, 1))


def local_today() -> dt.date:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=LOCAL_OFFSET_HOURS)).date()


def utc_start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc) - dt.timedelta(hours=LOCAL_OFFSET_HOURS)
