"""Form back ends: validation (with Chinese re-prompts) and completion for progress query,
appointment booking / cancel / reschedule, and complaints / suggestions.

Validations check each answer as it is given; the completing actions check everything again when they act
(the booking layer re-validates day, slot, name, phone, owner and phone tail), never trusting the slots."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.actions.protocol import Reply, Tracker, action
from bot.applications import APPLICATION_NO
from bot.appointments import (BOOKING_WINDOW_DAYS, BookingRefused, clean_mobile, clean_name, date_problem,
                              parse_date)
from bot.tail_check import TailVerdict, locked_message

_CONFIRMATION = re.compile(r"(?<![A-Z0-9])[A-Z2-9]{6}(?![A-Z0-9])")
_NO_CONTACT = ("不留", "不用", "不愿意", "不需要", "算了", "不要")
COMPLAINT_LENGTH = (5, 2000)


def _clear(reply: Reply, *slots: str) -> Reply:
    for name in slots:
        reply.set(name, None)
    return reply


def _value(tracker: Tracker, reply: Reply, slot: str) -> Any:
    """A slot's value as this validation leaves it: just validated, else what the tracker has."""
    for event in reply.events:
        if event["name"] == slot:
            return event["value"]
    return tracker.slot(slot)


def _tail(text: str) -> str | None:
    """The 4 digits the citizen gave ("5678", "尾号5678"), or the last 4 of a whole mobile number."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 4:
        return digits
    return digits[-4:] if clean_mobile(digits) == digits else None


def _judge_tail(reply: Reply, verdict: TailVerdict, tail: str, what: str, subject_slot: str) -> None:
    """Keep a right tail; re-ask a wrong one; once locked, forget the subject too (asked again, and refused
    while the lock lasts)."""
    refusal = verdict.refusal(what)
    if refusal is None:
        reply.set("phone_tail", tail)
        return
    reply.say(refusal).set("phone_tail", None)
    if verdict.locked_until is not None:
        reply.set(subject_slot, None)


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


# ---- progress query ------------------------------------------------------------------------------
@action("validate_progress_form")
def validate_progress_form(tracker: Tracker, svc: Any) -> Reply:
    reply, todo = Reply(), tracker.slots_to_validate()
    if todo.get("application_no") is not None:
        m = APPLICATION_NO.search(str(todo["application_no"]).replace(" ", "").upper())
        found = svc.applications.lookup(m.group(0)) if m else None
        if found is None:
            shown = m.group(0) if m else str(todo["application_no"])[:20]
            reply.say(f"没有查到办件编号“{shown}”，请核对受理回执上的编号后重新输入（例如 SQ20261102001）。")
            reply.set("application_no", None)
        elif until := svc.applications.locked_until(found.number):
            reply.say(locked_message("办件", until)).set("application_no", None)
        else:
            reply.set("application_no", found.number)
            if todo.get("phone_tail") is None:
                reply.set("phone_tail", None)  # a new number: its tail is asked afresh
    if todo.get("phone_tail") is not None:
        number = _value(tracker, reply, "application_no")
        found = svc.applications.lookup(number) if number else None
        tail = _tail(str(todo["phone_tail"]))
        if found is None:
            reply.set("phone_tail", None)
        elif tail is None:
            reply.say("请输入4位数字，即申请时预留手机号的最后4位。").set("phone_tail", None)
        else:
            _judge_tail(reply, svc.applications.check_tail(found, tail), tail, "办件", "application_no")
    return reply


@action("action_progress_result")
def action_progress_result(tracker: Tracker, svc: Any) -> Reply:
    p = svc.applications.lookup(tracker.slot("application_no") or "")
    tail = _tail(tracker.slot("phone_tail") or "")
    reply = Reply()
    if p is None or tail is None:
        reply.say("抱歉，办件编号或手机号后4位不完整，请重新说“查询办件进度”。")
    elif refusal := svc.applications.check_tail(p, tail).refusal("办件"):
        reply.say(refusal)
    else:
        reply.say(f"办件编号 {p.number}（{p.service_title}）\n当前状态：{p.status}\n"
                  f"更新时间：{p.updated_at}" + (f"\n说明：{p.note}" if p.note else ""))
    return _clear(reply, "application_no", "phone_tail")


# ---- appointments --------------------------------------------------------------------------------
def _validate_day_and_slot(tracker: Tracker, svc: Any, reply: Reply, service_code: str | None) -> None:
    """Shared by booking and rescheduling: a working day within the window, then a free time slot."""
    todo, today = tracker.slots_to_validate(), svc.booking.today()
    if todo.get("appt_date") is not None:
        day = parse_date(str(todo["appt_date"]), today)
        problem = "没有识别出日期" if day is None else date_problem(day, today)
        if problem:
            reply.say(f"{problem}，请重新选择日期（未来{BOOKING_WINDOW_DAYS}天内的工作日，例如“下周二”“12月3日”）。")
            reply.set("appt_date", None)
        else:
            reply.set("appt_date", day.isoformat())
    day = _day(_value(tracker, reply, "appt_date"))
    if todo.get("appt_slot") is not None and service_code and day:
        slot, why = svc.booking.choose_slot(str(todo["appt_slot"]), service_code, day)
        if slot is None:
            reply.say(f"{why}，请从可预约的时段中选择。").set("appt_slot", None)
        else:
            reply.set("appt_slot", slot)


def _resolve_service(tracker: Tracker, svc: Any, text: str) -> tuple[str | None, Reply]:
    from bot.answers import service_mention

    reply = Reply()
    code = tracker.entity("service_code")
    if code:
        return code, reply
    if len(service_mention(re.sub(r"预约|预定|约个?号|挂号|排号|我想|帮我", "", text))) < 2:
        current = tracker.slot("current_service")
        return (current, reply) if current else (None, reply)
    result = svc.retriever.search(text)
    if result.decision == "answer":
        return result.offered[0].code, reply
    if result.decision == "clarify":
        buttons = [{"title": m.title, "payload": f'/choose_option{{"service_code":"{m.code}"}}'} for m in result.offered]
        reply.say("您要预约的是哪一项？", buttons)
    else:
        reply.say("没有找到这个事项，请换个说法，例如“护照”“社保卡补办”。")
    return None, reply


@action("validate_appointment_form")
def validate_appointment_form(tracker: Tracker, svc: Any) -> Reply:
    todo, reply = tracker.slots_to_validate(), Reply()
    if "appt_service" in todo:
        code, reply = _resolve_service(tracker, svc, str(todo["appt_service"] or tracker.text))
        guide = svc.kb.live_guide(code) if code else None
        if guide is None:
            reply.set("appt_service", None)
        else:
            reply.say(f"好的，为您预约“{guide.title}”。").set("appt_service", code)
    _validate_day_and_slot(tracker, svc, reply, _value(tracker, reply, "appt_service"))
    if todo.get("appt_name") is not None:
        name = clean_name(str(todo["appt_name"]))
        if name is None:
            reply.say("请输入办事人的真实姓名（2到12个汉字）。").set("appt_name", None)
        else:
            reply.set("appt_name", name)
    if todo.get("appt_phone") is not None:
        phone = clean_mobile(str(todo["appt_phone"]))
        if phone is None:
            reply.say("手机号格式不对，请输入11位手机号码，例如 13812345678。").set("appt_phone", None)
        else:
            reply.set("appt_phone", phone)
    return reply


@action("action_ask_appt_slot")
def action_ask_appt_slot(tracker: Tracker, svc: Any) -> Reply:
    service, day = tracker.slot("appt_service"), _day(tracker.slot("appt_date"))
    code = tracker.slot("confirmation_code")
    if not service and code:  # reschedule: the service comes from the appointment
        appt = svc.booking.owned(code, tracker.sender_id)
        service = appt.service_code if appt else None
    free = svc.booking.free_slots(service, day) if service and day else []
    if not free:
        return Reply().say("这天已经约满了，请换一天。").set("appt_date", None)
    buttons = [{"title": f"{slot}（余{left}）", "payload": slot} for slot, left in free]
    return Reply().say(f"{day.isoformat()} 可预约的时段如下，请选择（也可以说“上午”“下午”）：", buttons)


@action("action_book_appointment")
def action_book_appointment(tracker: Tracker, svc: Any) -> Reply:
    code, day = tracker.slot("appt_service"), _day(tracker.slot("appt_date"))
    guide = svc.kb.live_guide(code) if code else None
    reply = Reply()
    if guide is None or day is None:
        reply.say("抱歉，预约信息不完整，请重新说“我要预约”。")
    else:
        try:
            appt = svc.booking.book(tracker.sender_id, code, guide.title, day, tracker.slot("appt_slot") or "",
                                    tracker.slot("appt_name") or "", tracker.slot("appt_phone") or "")
            reply.say(f"预约成功！\n事项：{guide.title}\n时间：{appt.day} {appt.slot}\n地点：{guide.location}\n"
                      f"确认码：{appt.code}\n请携带所需材料按时到达。如需取消或改约，请说“取消预约 {appt.code}”或"
                      f"“改约 {appt.code}”（需核对预约手机号后4位）。")
        except BookingRefused as refused:
            reply.say(f"抱歉，预约没有成功：{refused}请重新说“我要预约”。")
    return _clear(reply, "appt_service", "appt_date", "appt_slot", "appt_name", "appt_phone")


def _validate_booking(tracker: Tracker, svc: Any, reply: Reply) -> None:
    """Cancel and reschedule: a code booked in this conversation and not locked, then its phone tail."""
    todo = tracker.slots_to_validate()
    if todo.get("confirmation_code") is not None:
        m = _CONFIRMATION.search(str(todo["confirmation_code"]).upper())
        appt = svc.booking.owned(m.group(0), tracker.sender_id) if m else None
        if appt is None:
            reply.say("没有找到这个有效的预约确认码，请核对后重新输入（6位字母数字）。").set("confirmation_code", None)
        elif until := svc.booking.locked_until(appt.code):
            reply.say(locked_message("预约", until)).set("confirmation_code", None)
        else:
            reply.set("confirmation_code", appt.code)
            if todo.get("phone_tail") is None:
                reply.set("phone_tail", None)  # a new code: its tail is asked afresh
    if todo.get("phone_tail") is not None:
        code = _value(tracker, reply, "confirmation_code")
        appt = svc.booking.owned(code, tracker.sender_id) if code else None
        tail = _tail(str(todo["phone_tail"]))
        if appt is None:
            reply.set("phone_tail", None)
        elif tail is None:
            reply.say("请输入4位数字，即预约时所留手机号的最后4位。").set("phone_tail", None)
        else:
            _judge_tail(reply, svc.booking.check_tail(appt, tail), tail, "预约", "confirmation_code")


@action("validate_cancel_form")
def validate_cancel_form(tracker: Tracker, svc: Any) -> Reply:
    reply = Reply()
    _validate_booking(tracker, svc, reply)
    return reply


@action("action_cancel_appointment")
def action_cancel_appointment(tracker: Tracker, svc: Any) -> Reply:
    reply = Reply()
    try:
        appt = svc.booking.cancel(tracker.slot("confirmation_code") or "", tracker.sender_id,
                                  _tail(tracker.slot("phone_tail") or "") or "")
        reply.say(f"已取消预约 {appt.code}（{appt.service_title}，{appt.day} {appt.slot}）。")
    except BookingRefused as refused:
        reply.say(f"取消未成功：{refused}")
    return _clear(reply, "confirmation_code", "phone_tail")


@action("validate_reschedule_form")
def validate_reschedule_form(tracker: Tracker, svc: Any) -> Reply:
    reply = Reply()
    _validate_booking(tracker, svc, reply)
    code = _value(tracker, reply, "confirmation_code")
    appt = svc.booking.owned(code, tracker.sender_id) if code else None
    _validate_day_and_slot(tracker, svc, reply, appt.service_code if appt else None)
    return reply


@action("action_reschedule_appointment")
def action_reschedule_appointment(tracker: Tracker, svc: Any) -> Reply:
    day, reply = _day(tracker.slot("appt_date")), Reply()
    try:
        if day is None:
            raise BookingRefused("没有选择新的日期。")
        appt = svc.booking.reschedule(tracker.slot("confirmation_code") or "", tracker.sender_id,
                                      _tail(tracker.slot("phone_tail") or "") or "", day,
                                      tracker.slot("appt_slot") or "")
        reply.say(f"已改约：{appt.service_title}，{appt.day} {appt.slot}，确认码不变（{appt.code}）。")
    except BookingRefused as refused:
        reply.say(f"改约未成功：{refused}")
    return _clear(reply, "confirmation_code", "phone_tail", "appt_date", "appt_slot")


# ---- complaints and suggestions ------------------------------------------------------------------
@action("action_start_complaint")
def action_start_complaint(tracker: Tracker, svc: Any) -> Reply:
    return Reply().set("complaint_kind", "complaint").say("好的，我来帮您登记投诉，会转交相关部门处理。")


@action("action_start_suggestion")
def action_start_suggestion(tracker: Tracker, svc: Any) -> Reply:
    return Reply().set("complaint_kind", "suggestion").say("感谢您愿意提建议，我来帮您记录。")


def _complaint_problem(content: str) -> str | None:
    low, high = COMPLAINT_LENGTH
    if len(content) < low:
        return f"内容太短了，请具体描述一下（至少{low}个字）。"
    if len(content) > high:
        return f"内容太长了，请精简到{high}字以内。"
    return None


@action("validate_complaint_form")
def validate_complaint_form(tracker: Tracker, svc: Any) -> Reply:
    todo, reply = tracker.slots_to_validate(), Reply()
    if todo.get("complaint_category") is not None:
        reply.set("complaint_category", str(todo["complaint_category"]).strip()[:40])
    if todo.get("complaint_content") is not None:
        content = str(todo["complaint_content"]).strip()
        problem = _complaint_problem(content)
        if problem:
            reply.say(problem).set("complaint_content", None)
        else:
            reply.set("complaint_content", content)
    if todo.get("complaint_contact") is not None:
        text = str(todo["complaint_contact"])
        phone = clean_mobile(text)
        if phone:
            reply.set("complaint_contact", phone)
        elif any(w in text for w in _NO_CONTACT):
            reply.set("complaint_contact", "none")
        else:
            reply.say("请输入11位手机号；不想留联系方式请回复“不留”。").set("complaint_contact", None)
    return reply


@action("action_submit_complaint")
def action_submit_complaint(tracker: Tracker, svc: Any) -> Reply:
    kind = tracker.slot("complaint_kind") or "complaint"
    label = "投诉" if kind == "complaint" else "建议"
    content = (tracker.slot("complaint_content") or "").strip()
    contact = tracker.slot("complaint_contact") or "none"
    phone = clean_mobile(contact) if contact != "none" else ""
    reply = Reply()
    if problem := _complaint_problem(content):
        reply.say(f"{label}没有登记：{problem}请重新开始登记。")
    elif phone is None:
        reply.say(f"{label}没有登记：联系电话格式不对，请重新开始登记。")
    else:
        ticket = svc.conversations.open_ticket(kind, tracker.sender_id, tracker.transcript(),
                                               category=(tracker.slot("complaint_category") or "").strip()[:40],
                                               content=content, contact=phone)
        follow = "工作人员会在3个工作日内电话回访。" if phone else "您未留联系方式，可凭工单号拨打12345查询处理结果。"
        reply.say(f"您的{label}已登记，工单号 {ticket}。{follow}")
    return _clear(reply, "complaint_kind", "complaint_category", "complaint_content", "complaint_contact")
