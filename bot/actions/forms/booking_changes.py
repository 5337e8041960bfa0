"""Cancelling and rescheduling a booking: its code (booked in this conversation), the phone tail that proves
the citizen made it, then (rescheduling) the new date and slot; each read back and confirmed before anything
changes. "取消预约 ABC234 尾号5678" gives the code and the tail at once; the tail check and its lock-out
apply all the same, and the booking layer checks everything again when it acts."""
from __future__ import annotations

from typing import Any

from bot.actions.forms.common import Turn, declined, leave, not_a_value, started_now
from bot.actions.forms.progress import judge_tail
from bot.actions.forms.scheduling import day_of, read_when
from bot.actions.protocol import Reply, Tracker, action
from bot.appointments import BookingRefused
from bot.form_listening import bare_modify, confirmation_code, confirms, phone_tail, says_cancel, wants_to_leave
from bot.tail_check import locked_message
from bot.when import spoken

CANCEL, RESCHEDULE = "cancel_form", "reschedule_form"
ASK_CODE = "请提供6位预约确认码（在预约成功的消息里，例如 ABC234）；不办了请说“算了”。"
ASK_TAIL = "请输入4位数字，即预约时所留手机号的最后4位；不办了请说“算了”。"
HINTS = {
    (CANCEL, "appt_confirmed"): "请点“确认取消”取消这个预约；想保留预约请说“不取消了”。",
    (RESCHEDULE, "appt_confirmed"): "请点“确认改约”完成改约，或直接说要改的内容（例如“改成后天”）；不改了请说“算了”。",
    (RESCHEDULE, "appt_date"): "没有听明白是哪一天，请说新的日期，例如“明天”“下周二”“12月3日”；不改了请说“算了”。",
    (RESCHEDULE, "appt_slot"): "没有听明白要哪个时段，可以直接说“上午10点”“下午两点半”，或点选下面的时段。",
}
WHAT_TO_CHANGE = "好的，请问要改成哪一天、哪个时段？直接说就行，例如“改成后天”“换成下午两点”。"


def _read_booking(turn: Turn, svc: Any, text: str, asked: str | None) -> bool:
    """The booking code and the phone tail, wherever they appear in the message."""
    code = confirmation_code(text)
    tail = phone_tail(text, standalone=asked == "phone_tail" or code is not None)
    if code:
        appt = svc.booking.owned(code, turn.tracker.sender_id)
        if appt is None:
            turn.say("没有找到这个有效的预约确认码，请核对后重新输入（6位字母数字）。").set("confirmation_code", None)
        elif until := svc.booking.locked_until(appt.code):
            turn.say(locked_message("预约", until)).set("confirmation_code", None)
        else:  # a new code: its tail is asked afresh
            turn.set("confirmation_code", appt.code).set("phone_tail", None)
    booked = turn.value("confirmation_code")
    appt = svc.booking.owned(booked, turn.tracker.sender_id) if booked and tail else None
    if appt is not None:
        judge_tail(turn, svc.booking.check_tail(appt, tail), tail, "预约", "confirmation_code")
    return bool(code or tail)


def _validate(tracker: Tracker, svc: Any, form: str) -> Reply:
    text, turn, first = tracker.text, Turn(tracker), started_now(tracker, form)
    if first and (refusal := declined(tracker, svc, form)):
        return refusal
    if not first and wants_to_leave(text, form):
        return leave(form)
    asked = None if first else tracker.slot("requested_slot")
    if asked == "appt_confirmed" and (confirms(text) or form == CANCEL and says_cancel(text)):
        return turn.set("appt_confirmed", "yes").done()
    if asked:
        turn.set(asked, None)
    found = _read_booking(turn, svc, text, asked)
    if form == RESCHEDULE:
        booked = turn.value("confirmation_code")
        appt = svc.booking.owned(booked, tracker.sender_id) if booked else None
        found = read_when(turn, svc, text, appt.service_code if appt else None) or found
        found = found or asked == "appt_confirmed" and bare_modify(text)
    if found or first:
        return turn.done()
    hint = HINTS.get((form, asked or ""), ASK_TAIL if asked == "phone_tail" else ASK_CODE)
    return not_a_value(turn, svc, hint)


@action("validate_cancel_form")
def validate_cancel_form(tracker: Tracker, svc: Any) -> Reply:
    return _validate(tracker, svc, CANCEL)


@action("validate_reschedule_form")
def validate_reschedule_form(tracker: Tracker, svc: Any) -> Reply:
    return _validate(tracker, svc, RESCHEDULE)


def _when(day: Any, slot: str) -> str:
    return f"{spoken(day)} {slot}"


@action("action_ask_cancel_form_appt_confirmed")
def action_ask_cancel_form_appt_confirmed(tracker: Tracker, svc: Any) -> Reply:
    appt = svc.booking.owned(tracker.slot("confirmation_code") or "", tracker.sender_id)
    if appt is None:
        return Reply().say("没有找到这个有效的预约，请核对确认码。").set("confirmation_code", None)
    return Reply().say(f"您要取消的预约是：{appt.service_title}，{_when(appt.day, appt.slot)}（确认码 {appt.code}）。"
                       "确认取消吗？", [{"title": "确认取消", "payload": "确认取消"},
                                       {"title": "不取消了", "payload": "不取消了"}])


@action("action_ask_reschedule_form_appt_confirmed")
def action_ask_reschedule_form_appt_confirmed(tracker: Tracker, svc: Any) -> Reply:
    if bare_modify(tracker.text):
        return Reply().say(WHAT_TO_CHANGE)
    appt = svc.booking.owned(tracker.slot("confirmation_code") or "", tracker.sender_id)
    day = day_of(tracker.slot("appt_date"))
    if appt is None or day is None:
        return Reply().say("没有找到这个有效的预约，请核对确认码。").set("confirmation_code", None)
    return Reply().say(
        f"请核对改约信息：\n事项：{appt.service_title}\n原时间：{_when(appt.day, appt.slot)}\n"
        f"新时间：{_when(day, tracker.slot('appt_slot'))}\n确认无误请点“确认改约”；要改的话直接说，例如“改成后天”。",
        [{"title": "确认改约", "payload": "确认改约"}, {"title": "修改", "payload": "修改"}])


def _finished(reply: Reply, *slots: str) -> Reply:
    for slot in slots:
        reply.set(slot, None)
    return reply


@action("action_cancel_appointment")
def action_cancel_appointment(tracker: Tracker, svc: Any) -> Reply:
    reply = _finished(Reply(), "confirmation_code", "phone_tail", "appt_confirmed")
    code = tracker.slot("confirmation_code")
    if not code:  # the citizen left the form: nothing to say
        return reply
    if tracker.slot("appt_confirmed") != "yes":
        return reply.say("取消还没有确认，您的预约保持不变。")
    try:
        appt = svc.booking.cancel(code, tracker.sender_id, phone_tail(tracker.slot("phone_tail") or "") or "")
    except BookingRefused as refused:
        return reply.say(f"取消未成功：{refused}")
    return reply.say(f"已取消预约 {appt.code}（{appt.service_title}，{_when(appt.day, appt.slot)}）。")


@action("action_reschedule_appointment")
def action_reschedule_appointment(tracker: Tracker, svc: Any) -> Reply:
    reply = _finished(Reply(), "confirmation_code", "phone_tail", "appt_date", "appt_slot", "appt_confirmed")
    code, day = tracker.slot("confirmation_code"), day_of(tracker.slot("appt_date"))
    if not code:  # the citizen left the form: nothing to say
        return reply
    if tracker.slot("appt_confirmed") != "yes":
        return reply.say("改约还没有确认，您的预约保持不变。")
    try:
        if day is None:
            raise BookingRefused("没有选择新的日期。")
        appt = svc.booking.reschedule(code, tracker.sender_id, phone_tail(tracker.slot("phone_tail") or "") or "",
                                      day, tracker.slot("appt_slot") or "")
    except BookingRefused as refused:
        return reply.say(f"改约未成功：{refused}")
    return reply.say(f"已改约：{appt.service_title}，{_when(appt.day, appt.slot)}，确认码不变（{appt.code}）。")
