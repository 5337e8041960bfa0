"""Date and time slot inside the booking forms (new appointment and reschedule), at any step.

A date is held to the booking rules (bot/appointments.py: working day, within the window, not past, not
today) and a date change drops the chosen slot only when it is not free on the new day. A time picks the slot
that contains it; a half-day ("上午") is answered with that half's free slots as buttons, never one picked
silently. The citizen's words become dates and times in bot/when.py."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.actions.forms.common import Turn
from bot.actions.protocol import Reply, Tracker, action
from bot.appointments import BOOKING_WINDOW_DAYS, canonical_slot, date_problem, half_day_slots
from bot.form_listening import compact, wants_change
from bot.when import parse_date, parse_time, spoken

_OTHER_TIME = re.compile(r"时间|时段|钟点|点钟")
_OTHER_DAY = re.compile(r"日期|哪天|一天|那天|日子|换天|改天|天")


def day_of(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def service_of(tracker: Tracker, svc: Any) -> str | None:
    """The service being booked: the new appointment's, or (rescheduling) the existing appointment's."""
    if tracker.slot("appt_service"):
        return tracker.slot("appt_service")
    code = tracker.slot("confirmation_code")
    appt = svc.booking.owned(code, tracker.sender_id) if code else None
    return appt.service_code if appt else None


def names_time(text: str) -> bool:
    return canonical_slot(text) is not None or parse_time(text) is not None


def take_date(turn: Turn, svc: Any, day: dt.date, service: str | None) -> None:
    problem = date_problem(day, svc.booking.today())
    if problem:
        turn.say(f"{problem}，请重新选择日期（未来{BOOKING_WINDOW_DAYS}天内的工作日，例如“下周二”“12月3日”）。")
        turn.set("appt_date", None).set("appt_slot", None)
        return
    if turn.value("appt_date") not in (None, day.isoformat()):  # a change (the asked slot is cleared first)
        turn.say(f"好的，日期改为{spoken(day)}。")
    turn.set("appt_date", day.isoformat())
    slot = turn.value("appt_slot")
    if slot and service and slot not in [s for s, _ in svc.booking.free_slots(service, day)]:
        turn.say(f"原来选的{slot}在{spoken(day)}已经约满了，请重新选择时段。").set("appt_slot", None)


def take_time(turn: Turn, svc: Any, text: str, service: str | None) -> None:
    day = day_of(turn.value("appt_date"))
    if not (service and day):
        return
    slot, why = svc.booking.choose_slot(text, service, day)
    if slot and turn.value("appt_slot") not in (None, slot):
        turn.say(f"好的，时段改为{slot}。")
    turn.set("appt_slot", slot)
    if why:
        turn.say(f"{why}，请从可预约的时段中选择。")


def read_when(turn: Turn, svc: Any, text: str, service: str | None) -> bool:
    """A date and/or a time named in the message, or a wish to change them ("换个时间", "换一天"), applied
    at whatever step the form is; False when the message says nothing about when."""
    day = parse_date(text, svc.booking.today())
    timed = names_time(text)
    if day is not None:
        take_date(turn, svc, day, service)
    if timed:
        take_time(turn, svc, text, service)
    if day is not None or timed:
        return True
    if not wants_change(text):
        return False
    if _OTHER_TIME.search(compact(text)):
        turn.set("appt_slot", None)
        return True
    if _OTHER_DAY.search(compact(text)):
        turn.set("appt_date", None).set("appt_slot", None)
        return True
    return False


@action("action_ask_appt_slot")
def action_ask_appt_slot(tracker: Tracker, svc: Any) -> Reply:
    service, day = service_of(tracker, svc), day_of(tracker.slot("appt_date"))
    if not (service and day):
        return Reply().say("请先告诉我想预约哪一天。").set("appt_date", None)
    free = svc.booking.free_slots(service, day)
    if not free:
        return Reply().say(f"{spoken(day)}已经约满了，请换一天。").set("appt_date", None)
    asked = parse_time(tracker.text)
    half = asked.half if asked is not None and asked.minutes is None else None
    shown = [(slot, left) for slot, left in free if slot in half_day_slots(half, [s for s, _ in free])] or free
    buttons = [{"title": f"{slot}（余{left}）", "payload": slot} for slot, left in shown]
    when = f"{spoken(day)}{half}" if len(shown) < len(free) else spoken(day)
    return Reply().say(f"{when}可预约的时段如下，请选一个（也可以直接说时间，例如“上午10点”“下午两点半”）：", buttons)
