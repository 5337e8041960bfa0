"""Dates and clock times as citizens say them: 明天 / 大后天 / 下下周一 / 月底 / 下个月5号 / 十二月三日 / 12.3 /
2026-12-03; 上午10点 / 下午两点半 / 10:30 / 三点一刻. "Today" is always passed in, so every rule is testable.

Only understanding lives here, not the booking rules (bot/appointments.py says which days and slots can be
booked). A month/day without a year is this year's unless that lies more than two months behind today (then
it is next year's: "1月5日" said in December); a date just behind today stays in the past, so that the
citizen hears it is past instead of a wrong reason about next year.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import opencc

_T2S = opencc.OpenCC("t2s")
HOLIDAYS = {dt.date(2026, 1, 1), *(dt.date(2026, 10, d) for d in range(1, 8)),
            dt.date(2027, 1, 1), *(dt.date(2027, 2, d) for d in range(6, 13))}  # sample calendar
WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
ROLL_TO_NEXT_YEAR_AFTER = dt.timedelta(days=61)  # a month/day further behind today than this is next year's

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}  # 周末: its Saturday
_RELATIVE_DAYS = (("大大后天", 4), ("大后天", 3), ("大前天", -3), ("后天", 2), ("后儿", 2), ("前天", -2), ("明天", 1),
                  ("明儿", 1), ("明日", 1), ("明早", 1), ("明晚", 1), ("今天", 0), ("今儿", 0), ("今日", 0),
                  ("昨天", -1), ("昨儿", -1), ("昨日", -1))
_WEEKDAY_RE = re.compile(r"(下下|下|这|本|上)?个?(?:周|星期|礼拜)([一二三四五六日天末])")
_MONTH_END_RE = re.compile(r"(下个?|这个?|本)?月(?:底|末)")
_FULL_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH_DAY_RE = re.compile(rf"(下个?|这个?|本)月({_NUM})[日号]")
_CN_MONTH_DAY_RE = re.compile(rf"({_NUM})月({_NUM})[日号]?")
_DOTTED_RE = re.compile(r"(?<![\d:])(\d{1,2})[./-](\d{1,2})(?![\d:])")
_DAY_RE = re.compile(rf"(?<![\d月])({_NUM})[日号](?!\d)")

# "快一点" / "早一点" are not one o'clock
_CLOCK_RE = re.compile(rf"(\d{{1,2}}):(\d{{2}})"
                       rf"|(?<![快早晚慢好多少有差这那再])({_NUM})[点时](?:(半)|(一刻)|(三刻)|({_NUM})分?)?")
_MORNING = re.compile(r"上午|早上|早晨|清早|一早|明早|今早")
_AFTERNOON = re.compile(r"下午|午后")
_EVENING = re.compile(r"晚上|傍晚|夜里|明晚|今晚")
_NOON = re.compile(r"中午")


def simplified(text: str) -> str:
    """Full-width folded and traditional characters simplified: "下午兩點" → "下午两点", "ＳＱ２０" → "SQ20"."""
    return _T2S.convert(unicodedata.normalize("NFKC", text))


def normalise(text: str) -> str:
    """simplified() with spaces removed: "ＳＱ２０２６ 尾号４３２１" → "SQ2026尾号4321"."""
    return re.sub(r"\s+", "", simplified(text))


def cn_number(token: str) -> int | None:
    """"12" / "十二" / "二十一" / "三十" / "两" → the number; None for anything else."""
    if token.isdigit():
        return int(token)
    if not token or any(c not in _CN_DIGITS and c != "十" for c in token):
        return None
    if "十" not in token:
        return _CN_DIGITS[token] if len(token) == 1 else None
    tens, _, ones = token.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def is_workday(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def spoken(day: dt.date) -> str:
    """How a date is read back to the citizen: "12月3日（星期四）"."""
    return f"{day.month}月{day.day}日（{WEEKDAY_NAMES[day.weekday()]}）"


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _last_workday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, calendar.monthrange(year, month)[1])
    while not is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _weekday(prefix: str, weekday: int, today: dt.date) -> dt.date:
    monday = today - dt.timedelta(days=today.weekday())
    if prefix:  # 这/本 this week, 下 next, 下下 the week after, 上 last
        weeks = {"这": 0, "本": 0, "下": 1, "下下": 2, "上": -1}[prefix]
        return monday + dt.timedelta(weeks=weeks, days=weekday)
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)  # bare 周一: the next one (today counts)


def _month_day(month: int, day: int, today: dt.date) -> dt.date | None:
    found = _date(today.year, month, day)
    if found is not None and found < today - ROLL_TO_NEXT_YEAR_AFTER:
        found = _date(today.year + 1, month, day)
    return found


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The date a citizen named, or None. Past dates are returned as past (the caller says so)."""
    t = normalise(text)
    for word, days in _RELATIVE_DAYS:
        if word in t:
            return today + dt.timedelta(days=days)
    if m := _WEEKDAY_RE.search(t):
        return _weekday(m.group(1) or "", _WEEKDAY[m.group(2)], today)
    if m := _MONTH_END_RE.search(t):
        ahead = 1 if (m.group(1) or "").startswith("下") else 0
        last = _last_workday(*_add_months(today.year, today.month, ahead))
        return last if last > today or ahead else _last_workday(*_add_months(today.year, today.month, 1))
    if m := _FULL_DATE_RE.search(t):
        return _date(*map(int, m.groups()))
    if m := _MONTH_DAY_RE.search(t):
        day = cn_number(m.group(2))
        year, month = _add_months(today.year, today.month, 1 if m.group(1).startswith("下") else 0)
        return _date(year, month, day) if day else None
    if m := _CN_MONTH_DAY_RE.search(t):
        month, day = cn_number(m.group(1)), cn_number(m.group(2))
        return _month_day(month, day, today) if month and day else None
    if m := _DOTTED_RE.search(t):
        return _month_day(int(m.group(1)), int(m.group(2)), today)
    if m := _DAY_RE.search(t):
        day = cn_number(m.group(1))
        if not day:
            return None
        found = _date(today.year, today.month, day)
        if found is not None and found >= today:
            return found
        return _date(*_add_months(today.year, today.month, 1), day)  # "5号" said on the 20th: next month's
    return None


@dataclass(frozen=True)
class TimeAsked:
    """A clock time (minutes after midnight) and/or the half of the day the citizen named."""

    minutes: int | None
    half: str | None  # "上午" / "下午" / "晚上" / None

    def clock(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}" if self.minutes is not None else ""


def parse_time(text: str) -> TimeAsked | None:
    """上午10点 → 10:00; 下午两点半 → 14:30; 10:30; 两点 → 14:00 (1–7 o'clock without 上午 is office-hours
    afternoon); 晚上8点 → 20:00; 上午 alone → the half-day; None when the text names no time."""
    t = normalise(text)
    half = next((name for name, cue in (("上午", _MORNING), ("下午", _AFTERNOON), ("晚上", _EVENING))
                 if cue.search(t)), None)
    m = _CLOCK_RE.search(t)
    hour = int(m.group(1)) if m and m.group(1) else cn_number(m.group(3)) if m else None
    if m is None or hour is None or hour > 24:
        return TimeAsked(None, half) if half else None
    if m.group(1):
        minute = int(m.group(2))
    else:
        minute = 30 if m.group(4) else 15 if m.group(5) else 45 if m.group(6) else cn_number(m.group(7) or "0")
    if minute is None or minute > 59:
        return TimeAsked(None, half) if half else None
    noon = _NOON.search(t) is not None
    if half in ("下午", "晚上") and hour < 12 or half is None and noon and hour < 3 or \
            half is None and not noon and 1 <= hour <= 7:
        hour += 12
    return TimeAsked(hour * 60 + minute, half or ("上午" if hour < 12 else "下午"))


_WHEN_WORDS = re.compile("|".join([
    "|".join(w for w, _ in _RELATIVE_DAYS), _WEEKDAY_RE.pattern, _MONTH_END_RE.pattern, _FULL_DATE_RE.pattern,
    _MONTH_DAY_RE.pattern, _CN_MONTH_DAY_RE.pattern, _DOTTED_RE.pattern, _DAY_RE.pattern, _CLOCK_RE.pattern,
    _MORNING.pattern, _AFTERNOON.pattern, _EVENING.pattern, _NOON.pattern]))


def without_when(text: str) -> str:
    """The text with its date and time expressions removed ("预约明天上午10点办护照" → "预约办护照")."""
    return _WHEN_WORDS.sub("", normalise(text))
