"""The one clock every table and workflow uses: timezone-aware UTC."""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


CITY_TZ = ZoneInfo(os.environ.get("GOVBOT_TIMEZONE", "Asia/Shanghai"))


def city_now() -> dt.datetime:
    """Now in the city's time zone: what "today", "明天" and office hours mean to a citizen."""
    return dt.datetime.now(CITY_TZ)


def city_today() -> dt.date:
    return city_now().date()


def city_date(moment: dt.datetime) -> dt.date:
    """The calendar date of a stored UTC moment (SQLite hands it back naive), as the city sees it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(CITY_TZ).date()
