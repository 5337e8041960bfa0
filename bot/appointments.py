"""Appointment booking: date understanding (明天 / 下周二 / 12月3日 / 2026-12-01), working days,
time slots with capacity, confirmation codes, cancel and reschedule."""
from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import func, select

from bot.models import Appointment
from core.db import Database

SLOTS = ("09:00-10:00", "10:00-11:00", "11:00-12:00", "13:30-14:30", "14:30-15:30", "15:30-16:30")
CAPACITY_PER_SLOT = 10
BOOKING_WINDOW_DAYS = 30
HOLIDAYS = {dt.date(2026, 1, 1), *(dt.date(2026, 10, d) for d in range(1, 8)),
            dt.date(2027, 1, 1), *(dt.date(2027, 2, d) for d in range(6, 13))}  # sample calendar
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def parse_date(text: str, today: dt.date) -> dt.date | None:
    t = text.strip().replace(" ", "")
    for word, days in (("大后天", 3), ("后天", 2), ("明天", 1), ("今天", 0)):
        if word in t:
            return today + dt.timedelta(days=days)
    if m := re.search(r"(下下|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天])", t):
        weeks = {"下下": 2, "下": 1}.get(m.group(1) or "", 0)
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)
        return monday + dt.timedelta(days=_WEEKDAYS[m.group(2)])
    if m := re.search(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", t):
        y, mo, d = map(int, m.groups())
    elif m := re.search(r"(\d{1,2})[-/.月](\d{1,2})[日号]?", t):
        y, (mo, d) = today.year, map(int, m.groups())
    elif m := re.search(r"(\d{1,2})[日号]", t):
        y, mo, d = today.year, today.month, int(m.group(1))
    else:
        return None
    try:
        day = dt.date(y, mo, d)
    except ValueError:
        return None
    if day < today and not re.search(r"\d{4}", t) and day.month < today.month:
        day = day.replace(year=day.year + 1)  # "1月5日" said in December means next January
    return day


def date_problem(day: dt.date, today: dt.date) -> str | None:
    if day < today:
        return "这个日期已经过去了"
    if day == today:
        return "当天不能预约，最早可约明天"
    if day > today + dt.timedelta(days=BOOKING_WINDOW_DAYS):
        return f"只能预约{BOOKING_WINDOW_DAYS}天以内的日期"
    if day.weekday() >= 5 or day in HOLIDAYS:
        return "这天是周末或法定节假日，不办理预约业务"
    return None


def parse_slot(text: str) -> str | None:
    t = text.replace("：", ":").replace(" ", "")
    if m := re.search(r"(\d{1,2})(?::(\d{2}))?(?:点|时)?(半)?", t):
        hour = int(m.group(1))
        if ("下午" in t or "晚" in t) and hour < 12:
            hour += 12
        minute = int(m.group(2) or (30 if m.group(3) else 0))
        start = f"{hour:02d}:{minute:02d}"
        for slot in SLOTS:
            a, b = slot.split("-")
            if a <= start < b:
                return slot
        return None
    return None


class Booking:
    def __init__(self, db: Database) -> None:
        self.db = db

    def taken(self, service_code: str, day: dt.date) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(select(Appointment.slot, func.count()).where(
                Appointment.service_code == service_code, Appointment.day == day,
                Appointment.status == "booked").group_by(Appointment.slot)).all()
        return {slot: n for slot, n in rows}

    def free_slots(self, service_code: str, day: dt.date) -> list[tuple[str, int]]:
        taken = self.taken(service_code, day)
        return [(slot, CAPACITY_PER_SLOT - taken.get(slot, 0)) for slot in SLOTS
                if taken.get(slot, 0) < CAPACITY_PER_SLOT]

    def choose_slot(self, text: str, service_code: str, day: dt.date) -> tuple[str | None, str]:
        """Pick the slot the citizen asked for ("上午" = first free morning slot); explain if full."""
        free = [slot for slot, _ in self.free_slots(service_code, day)]
        if not free:
            return None, "这天已约满"
        if "上午" in text or "早上" in text:
            morning = [s for s in free if s < "12:00"]
            return (morning[0], "") if morning else (None, "这天上午已约满")
        if "下午" in text and not re.search(r"\d", text):
            afternoon = [s for s in free if s >= "13:00"]
            return (afternoon[0], "") if afternoon else (None, "这天下午已约满")
        slot = parse_slot(text)
        if slot is None:
            return None, "没有识别出时间段"
        return (slot, "") if slot in free else (None, f"{slot}已约满")

    def book(self, sender_id: str, service_code: str, service_title: str, day: dt.date, slot: str,
             name: str, phone: str) -> Appointment:
        with self.db.session() as s:
            taken = s.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.service_code == service_code, Appointment.day == day, Appointment.slot == slot,
                Appointment.status == "booked")) or 0
            if taken >= CAPACITY_PER_SLOT:
                raise ValueError("slot full")
            appt = Appointment(code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(6)),
                               sender_id=sender_id, service_code=service_code, service_title=service_title,
                               day=day, slot=slot, name=name, phone=phone)
            s.add(appt)
            return appt

    def find(self, code: str) -> Appointment | None:
        with self.db.session() as s:
            return s.get(Appointment, code.strip().upper())

    def cancel(self, code: str) -> Appointment | None:
        with self.db.session() as s:
            appt = s.get(Appointment, code.strip().upper())
            if appt is None or appt.status != "booked":
                return None
            appt.status = "cancelled"
            return appt

    def reschedule(self, code: str, day: dt.date, slot: str) -> Appointment | None:
        with self.db.session() as s:
            appt = s.get(Appointment, code.strip().upper())
            if appt is None or appt.status != "booked":
                return None
            appt.day, appt.slot = day, slot
            return appt
