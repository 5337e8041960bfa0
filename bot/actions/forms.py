"""Form back ends: validation (with Chinese re-prompts) and completion for progress query,
appointment booking / cancel / reschedule, and complaints / suggestions."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.actions.protocol import Reply, Tracker, action
from bot.appointments import BOOKING_WINDOW_DAYS, date_problem, parse_date

_APPLICATION_NO = re.compile(r"[A-Za-z]{0,2}\d{10,14}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CONFIRMATION = re.compile(r"(?<![A-Z0-9])[A-Z2-9]{6}(?![A-Z0-9])")
_NO_CONTACT = ("不留", "不用", "不愿意", "不需要", "算了", "不要")


def _today() -> dt.date:
    return dt.date.today()


def _clear(reply: Reply, *slots: str) -> Reply:
    for name in slots:
        reply.set(name, None)
    return reply


# ---- progress query ------------------------------------------------------------------------------
@action("validate_progress_form")
def validate_progress_form(tracker: Tracker, svc: Any) -> Reply:
    reply, todo = Reply(), tracker.slots_to_validate()
    if "application_no" in todo and todo["application_no"] is not None:
        m = _APPLICATION_NO.search(str(todo["application_no"]).replace(" ", ""))
        found = svc.applications.lookup(m.group(0)) if m else None
        if found is None:
            shown = m.group(0) if m else str(todo["application_no"])[:20]
            reply.say(f"没有查到办件编号“{shown}”，请核对受理回执上的编号后重新输入（例如 SQ20261102001）。")
            reply.set("application_no", None)
        else:
            reply.set("application_no", found.number)
    if "phone_tail" in todo and todo["phone_tail"] is not None:
        digits = re.findall(r"\d{4}", str(todo["phone_tail"]))
        number = tracker.slot("application_no") or todo.get("application_no")
        found = svc.applications.lookup(number) if number else None
        if not digits:
            reply.say("请输入4位数字，即申请时预留手机号的最后4位。").set("phone_tail", None)
        elif found is None or found.phone_tail != digits[-1]:
            reply.say("手机号后4位与登记信息不一致，请重新输入。").set("phone_tail", None)
        else:
            reply.set("phone_tail", digits[-1])
    return reply


@action("action_progress_result")
def action_progress_result(tracker: Tracker, svc: Any) -> Reply:
    p = svc.applications.lookup(tracker.slot("application_no") or "")
    reply = Reply()
    if p is None:
        reply.say("抱歉，暂时查不到该办件，请稍后再试或拨打12345。")
    else:
        reply.say(f"办件编号 {p.number}（{p.service_title}）\n当前状态：{p.status}\n"
                  f"更新时间：{p.updated_at}" + (f"\n说明：{p.note}" if p.note else ""))
    return _clear(reply, "application_no", "phone_tail")


# ---- appointments --------------------------------------------------------------------------------
def _value(tracker: Tracker, reply: Reply, slot: str) -> Any:
    """A slot's value as this validation leaves it: just validated, else what the tracker has."""
    for event in reply.events:
        if event["name"] == slot:
            return event["value"]
    return tracker.slot(slot)


def _validate_day_and_slot(tracker: Tracker, svc: Any, reply: Reply, service_code: str | None) -> None:
    """Shared by booking and rescheduling: a working day within the window, then a free time slot."""
    todo, today = tracker.slots_to_validate(), _today()
    if todo.get("appt_date") is not None:
        day = parse_date(str(todo["appt_date"]), today)
        problem = "没有识别出日期" if day is None else date_problem(day, today)
        if problem:
            reply.say(f"{problem}，请重新选择日期（未来{BOOKING_WINDOW_DAYS}天内的工作日，例如“下周二”“12月3日”）。")
            reply.set("appt_date", None)
        else:
            reply.set("appt_date", day.isoformat())
    day_text = _value(tracker, reply, "appt_date")
    if todo.get("appt_slot") is not None and service_code and day_text:
        slot, why = svc.booking.choose_slot(str(todo["appt_slot"]), service_code, dt.date.fromisoformat(day_text))
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
        name = re.sub(r"^(我叫|我是|姓名是?|名字是?)", "", str(todo["appt_name"]).strip())
        if not re.fullmatch(r"[\u4e00-\u9fa5·]{2,12}|[A-Za-z][A-Za-z .]{1,39}", name):
            reply.say("请输入办事人的真实姓名（2到12个汉字）。").set("appt_name", None)
        else:
            reply.set("appt_name", name)
    if todo.get("appt_phone") is not None:
        m = _MOBILE.search(re.sub(r"[\s-]", "", str(todo["appt_phone"])))
        if not m:
            reply.say("手机号格式不对，请输入11位手机号码，例如 13812345678。").set("appt_phone", None)
        else:
            reply.set("appt_phone", m.group(0))
    return reply


@action("action_ask_appt_slot")
def action_ask_appt_slot(tracker: Tracker, svc: Any) -> Reply:
    service, day = tracker.slot("appt_service"), tracker.slot("appt_date")
    code = tracker.slot("confirmation_code")
    if not service and code:  # reschedule: the service comes from the appointment
        appt = svc.booking.find(code)
        service = appt.service_code if appt else None
    free = svc.booking.free_slots(service, dt.date.fromisoformat(day)) if service and day else []
    if not free:
        return Reply().say("这天已经约满了，请换一天。").set("appt_date", None)
    buttons = [{"title": f"{slot}（余{left}）", "payload": slot} for slot, left in free]
    return Reply().say(f"{day} 可预约的时段如下，请选择（也可以说“上午”“下午”）：", buttons)


@action("action_book_appointment")
def action_book_appointment(tracker: Tracker, svc: Any) -> Reply:
    code, day, slot = tracker.slot("appt_service"), tracker.slot("appt_date"), tracker.slot("appt_slot")
    guide = svc.kb.live_guide(code) if code else None
    reply = Reply()
    if guide is None or not day or not slot:
        reply.say("抱歉，预约信息不完整，请重新说“我要预约”。")
    else:
        try:
            appt = svc.booking.book(tracker.sender_id, code, guide.title, dt.date.fromisoformat(day), slot,
                                    tracker.slot("appt_name"), tracker.slot("appt_phone"))
            reply.say(f"预约成功！\n事项：{guide.title}\n时间：{day} {slot}\n地点：{guide.location}\n"
                      f"确认码：{appt.code}\n请携带所需材料按时到达。如需取消或改约，请说“取消预约 {appt.code}”或"
                      f"“改约 {appt.code}”。")
        except ValueError:
            reply.say("抱歉，这个时段刚刚约满了，请重新预约其他时段。")
    return _clear(reply, "appt_service", "appt_date", "appt_slot", "appt_name", "appt_phone")


def _validate_code(tracker: Tracker, svc: Any, reply: Reply) -> None:
    todo = tracker.slots_to_validate()
    if todo.get("confirmation_code") is None:
        return
    m = _CONFIRMATION.search(str(todo["confirmation_code"]).upper())
    appt = svc.booking.find(m.group(0)) if m else None
    if appt is None or appt.status != "booked":
        reply.say("没有找到这个有效的预约确认码，请核对后重新输入（6位字母数字）。").set("confirmation_code", None)
    else:
        reply.set("confirmation_code", appt.code)


@action("validate_cancel_form")
def validate_cancel_form(tracker: Tracker, svc: Any) -> Reply:
    reply = Reply()
    _validate_code(tracker, svc, reply)
    return reply


@action("action_cancel_appointment")
def action_cancel_appointment(tracker: Tracker, svc: Any) -> Reply:
    appt = svc.booking.cancel(tracker.slot("confirmation_code") or "")
    reply = Reply()
    if appt is None:
        reply.say("取消失败：预约不存在或已取消。")
    else:
        reply.say(f"已取消预约 {appt.code}（{appt.service_title}，{appt.day} {appt.slot}）。")
    return _clear(reply, "confirmation_code")


@action("validate_reschedule_form")
def validate_reschedule_form(tracker: Tracker, svc: Any) -> Reply:
    reply = Reply()
    _validate_code(tracker, svc, reply)
    code = _value(tracker, reply, "confirmation_code")
    appt = svc.booking.find(code) if code else None
    _validate_day_and_slot(tracker, svc, reply, appt.service_code if appt else None)
    return reply


@action("action_reschedule_appointment")
def action_reschedule_appointment(tracker: Tracker, svc: Any) -> Reply:
    day, slot = tracker.slot("appt_date"), tracker.slot("appt_slot")
    appt = svc.booking.reschedule(tracker.slot("confirmation_code") or "", dt.date.fromisoformat(day), slot) \
        if day and slot else None
    reply = Reply()
    if appt is None:
        reply.say("改约失败：预约不存在或已取消。")
    else:
        reply.say(f"已改约：{appt.service_title}，{appt.day} {appt.slot}，确认码不变（{appt.code}）。")
    return _clear(reply, "confirmation_code", "appt_date", "appt_slot")


# ---- complaints and suggestions ------------------------------------------------------------------
@action("action_start_complaint")
def action_start_complaint(tracker: Tracker, svc: Any) -> Reply:
    return Reply().set("complaint_kind", "complaint").say("好的，我来帮您登记投诉，会转交相关部门处理。")


@action("action_start_suggestion")
def action_start_suggestion(tracker: Tracker, svc: Any) -> Reply:
    return Reply().set("complaint_kind", "suggestion").say("感谢您愿意提建议，我来帮您记录。")


@action("validate_complaint_form")
def validate_complaint_form(tracker: Tracker, svc: Any) -> Reply:
    todo, reply = tracker.slots_to_validate(), Reply()
    if todo.get("complaint_category") is not None:
        reply.set("complaint_category", str(todo["complaint_category"]).strip()[:40])
    if todo.get("complaint_content") is not None:
        content = str(todo["complaint_content"]).strip()
        if len(content) < 5:
            reply.say("内容太短了，请具体描述一下（至少5个字）。").set("complaint_content", None)
        else:
            reply.set("complaint_content", content[:2000])
    if todo.get("complaint_contact") is not None:
        text = str(todo["complaint_contact"])
        m = _MOBILE.search(re.sub(r"[\s-]", "", text))
        if m:
            reply.set("complaint_contact", m.group(0))
        elif any(w in text for w in _NO_CONTACT):
            reply.set("complaint_contact", "none")
        else:
            reply.say("请输入11位手机号；不想留联系方式请回复“不留”。").set("complaint_contact", None)
    return reply


@action("action_submit_complaint")
def action_submit_complaint(tracker: Tracker, svc: Any) -> Reply:
    kind = tracker.slot("complaint_kind") or "complaint"
    contact = tracker.slot("complaint_contact")
    ticket = svc.conversations.open_ticket(kind, tracker.sender_id, tracker.transcript(),
                                           category=tracker.slot("complaint_category") or "",
                                           content=tracker.slot("complaint_content") or "",
                                           contact="" if contact in (None, "none") else contact)
    label = "投诉" if kind == "complaint" else "建议"
    follow = "工作人员会在3个工作日内电话回访。" if contact not in (None, "none") else "您未留联系方式，可凭工单号拨打12345查询处理结果。"
    reply = Reply().say(f"您的{label}已登记，工单号 {ticket}。{follow}")
    return _clear(reply, "complaint_kind", "complaint_category", "complaint_content", "complaint_contact")
