"""Appointment booking: which days can be booked (working days within the window; what a citizen's words mean
as a date or time is bot/when.py's job), canonical time slots with a capacity held in the database,
confirmation codes, and cancel / reschedule, which need the code, the booking's owner and the last 4 digits of
the phone it was made with.
Every change re-validates what it acts on (day, slot, name, phone, owner) at the moment it acts."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from bot.models import Appointment, SlotSeats, insert_missing
from bot.tail_check import TailCheck, TailVerdict
from bot.when import WEEKDAY_NAMES, is_workday, normalise, parse_time, simplified
from core.clock import city_today
from core.db import Database

SLOTS = ("09:00-10:00", "10:00-11:00", "11:00-12:00", "13:30-14:30", "14:30-15:30", "15:30-16:30")
CAPACITY_PER_SLOT = 10
BOOKING_WINDOW_DAYS = 30
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def date_problem(day: dt.date, today: dt.date) -> str | None:
    if day < today:
        return "这个日期已经过去了"
    if day == today:
        return "当天不能预约，最早可约明天"
    if day > today + dt.timedelta(days=BOOKING_WINDOW_DAYS):
        return f"只能预约{BOOKING_WINDOW_DAYS}天以内的日期"
    if day.weekday() >= 5:
        return f"这天是周末（{WEEKDAY_NAMES[day.weekday()]}），不办理预约业务"
    if not is_workday(day):
        return "这天是法定节假日，不办理预约业务"
    return None


_NAME = re.compile(r"[\u4e00-\u9fa5]{2,5}|[\u4e00-\u9fa5]{1,6}(?:·[\u4e00-\u9fa5]{1,6}){1,2}"
                   r"|[A-Za-z][A-Za-z .]{1,39}")
_NOT_IN_A_NAME = re.compile(r"[我你想改换不要的了吗呢吧啊呀么嗯哦错对谁啥咋怎哪]|预约|什么|时间|日期|姓名|名字|手机")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_SLOT_TEXT = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-－–—~～至到]\s*(\d{1,2})[:：](\d{2})")


class BookingRefused(Exception):
    """A booking, cancel or reschedule that cannot be done; the message is for the citizen."""


def canonical_slot(text: str) -> str | None:
    """"9:00-10:00", " 09:00-10:00 ", "9：00—10：00" → "09:00-10:00" when it is one of SLOTS, else None."""
    m = _SLOT_TEXT.fullmatch(text.strip())
    if m is None:
        return None
    h1, m1, h2, m2 = map(int, m.groups())
    slot = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
    return slot if slot in SLOTS else None


def clean_name(text: str) -> str | None:
    """A name as people write theirs: 2–5 hanzi, or parts joined by · (买买提·艾力), or a Latin name; never a
    sentence ("不对我想改成下周三" holds words no name has)."""
    name = re.sub(r"^(我叫|我是|叫|姓名是?|名字是?|办事人是?)[:：]?", "", text.strip()).rstrip("。.!！")
    return name if _NAME.fullmatch(name) and not _NOT_IN_A_NAME.search(simplified(name)) else None


def clean_mobile(text: str) -> str | None:
    m = _MOBILE.search(re.sub(r"[\s-]|^\+?86", "", normalise(text)))
    return m.group(0) if m else None


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def half_day_slots(half: str | None, slots: list[str]) -> list[str]:
    """The slots of one half of the day (上午 before noon, 下午 after; 晚上 has none)."""
    if half == "上午":
        return [s for s in slots if s < "12:00"]
    return [s for s in slots if s >= "12:00"] if half == "下午" else []


class Booking:
    def __init__(self, db: Database, today: Callable[[], dt.date] = city_today) -> None:
        self.db, self.today, self.tails = db, today, TailCheck(db)

    def free_slots(self, service_code: str, day: dt.date) -> list[tuple[str, int]]:
        with self.db.session() as s:
            taken = dict(s.execute(select(SlotSeats.slot, SlotSeats.taken).where(
                SlotSeats.service_code == service_code, SlotSeats.day == day)).all())
        return [(slot, CAPACITY_PER_SLOT - taken.get(slot, 0)) for slot in SLOTS
                if taken.get(slot, 0) < CAPACITY_PER_SLOT]

    def choose_slot(self, text: str, service_code: str, day: dt.date) -> tuple[str | None, str]:
        """The slot containing the time the citizen named ("上午10点" → 10:00-11:00, "10:30" → 10:00-11:00),
        or None and why (full, or not a time we offer). Only a half-day ("上午") gives None and no reason: the
        citizen is asked which of its free slots (never one picked silently)."""
        free = [slot for slot, _ in self.free_slots(service_code, day)]
        asked, named = parse_time(text), canonical_slot(text)
        if named is None and asked is not None and asked.minutes is not None:
            named = next((slot for slot in SLOTS if _minutes(slot[:5]) <= asked.minutes < _minutes(slot[6:])), None)
            if named is None:
                return None, f"{asked.half}{asked.clock()}不在可预约的时段内"
        if named is not None:
            return (named, "") if named in free else (None, f"{named}这个时段已经约满了")
        if asked is None:
            return None, "没有听明白您要哪个时段"
        if not free:
            return None, "这天已经约满了"
        return None, "" if half_day_slots(asked.half, free) else f"这天{asked.half}没有可预约的时段了"

    def _check_time(self, day: dt.date, slot: str) -> str:
        problem = date_problem(day, self.today())
        if problem:
            raise BookingRefused(f"{problem}，请重新选择日期。")
        canonical = canonical_slot(slot)
        if canonical is None:
            raise BookingRefused("没有这个预约时段，请从可预约的时段中选择。")
        return canonical

    def book(self, sender_id: str, service_code: str, service_title: str, day: dt.date, slot: str,
             name: str, phone: str) -> Appointment:
        slot = self._check_time(day, slot)
        clean = clean_name(name), clean_mobile(phone)
        if None in clean:
            raise BookingRefused("姓名或手机号不正确，请重新预约。")
        with self.db.session() as s:
            _take_seat(s, service_code, day, slot)
            appt = Appointment(code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(6)),
                               sender_id=sender_id, service_code=service_code, service_title=service_title,
                               day=day, slot=slot, name=clean[0], phone=clean[1])
            s.add(appt)
        return appt

    def owned(self, code: str, sender_id: str) -> Appointment | None:
        """The booking with this code when it is still booked and was made in this conversation."""
        with self.db.session() as s:
            appt = s.get(Appointment, code.strip().upper())
        return appt if appt and appt.status == "booked" and appt.sender_id == sender_id else None

    def locked_until(self, code: str) -> dt.datetime | None:
        return self.tails.locked_until(f"appointment:{code.strip().upper()}")

    def check_tail(self, appt: Appointment, tail: str) -> TailVerdict:
        return self.tails.check(f"appointment:{appt.code}", appt.phone[-4:], tail)

    def _verified(self, code: str, sender_id: str, tail: str) -> Appointment:
        appt = self.owned(code, sender_id)
        if appt is None:
            raise BookingRefused("没有找到这个有效的预约，请核对确认码。")
        refusal = self.check_tail(appt, tail).refusal("预约")
        if refusal:
            raise BookingRefused(refusal)
        return appt

    def cancel(self, code: str, sender_id: str, tail: str) -> Appointment:
        appt = self._verified(code, sender_id, tail)
        with self.db.session() as s:  # the appointment row first, then its seat (one order everywhere)
            if _change(s, appt, status="cancelled") != 1:
                raise BookingRefused("这个预约刚刚已被取消或改约，请重新查询。")
            _release_seat(s, appt.service_code, appt.day, appt.slot)
        appt.status = "cancelled"
        return appt

    def reschedule(self, code: str, sender_id: str, tail: str, day: dt.date, slot: str) -> Appointment:
        slot = self._check_time(day, slot)
        appt = self._verified(code, sender_id, tail)
        if (appt.day, appt.slot) == (day, slot):
            raise BookingRefused("新的时间与原预约相同。")
        old, new = (appt.service_code, appt.day, appt.slot), (appt.service_code, day, slot)
        with self.db.session() as s:
            if _change(s, appt, day=day, slot=slot) != 1:
                raise BookingRefused("这个预约刚刚已被取消或改约，请重新查询。")
            for key in sorted((old, new)):  # seat rows in key order: two reschedules never wait in a cycle
                if key == new:
                    _take_seat(s, *new)
                else:
                    _release_seat(s, *old)
        appt.day, appt.slot = day, slot
        return appt


def _change(s: Session, appt: Appointment, **values: object) -> int:
    """Update the booking only if nobody changed it since it was read; how many rows changed (0 or 1)."""
    return s.execute(update(Appointment).where(
        Appointment.code == appt.code, Appointment.status == "booked", Appointment.day == appt.day,
        Appointment.slot == appt.slot).values(**values).execution_options(synchronize_session=False)).rowcount


def _seat(service_code: str, day: dt.date, slot: str) -> tuple[ColumnElement[bool], ...]:
    return (SlotSeats.service_code == service_code, SlotSeats.day == day, SlotSeats.slot == slot)


def _take_seat(s: Session, service_code: str, day: dt.date, slot: str) -> None:
    """taken = taken + 1 only while below capacity: one conditional UPDATE, atomic on SQLite and PostgreSQL."""
    insert_missing(s, SlotSeats, service_code=service_code, day=day, slot=slot, taken=0)
    took = s.execute(update(SlotSeats).where(*_seat(service_code, day, slot), SlotSeats.taken < CAPACITY_PER_SLOT)
                     .values(taken=SlotSeats.taken + 1).execution_options(synchronize_session=False)).rowcount
    if took != 1:
        raise BookingRefused(f"{slot}这个时段已经约满了，请选择其他时段。")


def _release_seat(s: Session, service_code: str, day: dt.date, slot: str) -> None:
    s.execute(update(SlotSeats).where(*_seat(service_code, day, slot), SlotSeats.taken > 0)
              .values(taken=SlotSeats.taken - 1).execution_options(synchronize_session=False))
