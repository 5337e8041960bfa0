"""Booking an appointment: service, date, slot, name, phone, then everything read back and confirmed.

The first message may already give the service, the date and the time ("预约明天上午10点办护照"); any later
message may change any of them ("改成后天", "换成下午", "事项选错了", "不对我想改成下周三" at the name step);
nothing is booked until the citizen confirms the read-back, and the booking layer checks it all again."""
from __future__ import annotations

import re
from typing import Any

from bot.actions.forms.common import Turn, declined, leave, not_a_value, started_now
from bot.actions.forms.scheduling import day_of, read_when
from bot.actions.protocol import Reply, Tracker, action
from bot.answers import service_mention
from bot.appointments import BookingRefused, clean_mobile, clean_name
from bot.form_listening import (bare_modify, compact, confirms, is_question, strip_change_words, wants_change,
                                wants_to_leave)
from bot.when import spoken, without_when

FORM = "appointment_form"
_BOOKING_WORDS = re.compile(r"预约|预定|约个?号|挂号|排号|取号|(?<!签)约个?(?:时间)?|号$|我想|我要|帮我|给我|想要|一下|改成|换成|改为"
                            r"|换到|改到|事项|选错了|不对|错了")
_SERVICE_CHANGE = re.compile(r"事项|业务|办的事|办别的|办其他")
_NAME_CHANGE = re.compile(r"名字|姓名|名")
_PHONE_CHANGE = re.compile(r"手机|电话|号码")
_MOBILE_IN_TEXT = re.compile(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}")
_ORDINAL = re.compile(r"第?([1-9一二三四五六七八九])(?:个|项|条)?")
HINTS = {
    "appt_service": "请告诉我要预约办理的事项，例如“护照”“社保卡补办”；不约了请说“算了”。",
    "appt_date": "没有听明白是哪一天，请说具体日期，例如“明天”“下周二”“12月3日”；不约了请说“算了”。",
    "appt_slot": "没有听明白要哪个时段，可以直接说“上午10点”“下午两点半”，或点选下面的时段。",
    "appt_name": "这看起来不像姓名，请输入办事人的真实姓名（例如 王小明）；不约了请说“算了”。",
    "appt_phone": "手机号格式不对，请输入11位手机号码，例如 13812345678。",
    "appt_confirmed": "请点“确认预约”完成预约，或直接说要改的内容（例如“改成后天”）；不约了请说“算了”。",
}
WHAT_TO_CHANGE = ("好的，请问要改哪一项？直接说新的内容就行，例如“改成后天”“换成下午两点”“姓名改成王芳”"
                  "“手机号改成13912345678”“事项选错了”。")


def _mention(text: str) -> str:
    """What may name a service once booking words, dates and times are taken out ("" when nothing does)."""
    words = _BOOKING_WORDS.sub("", without_when(text))
    return words if len(service_mention(words)) >= 2 else ""


def _picked(tracker: Tracker, svc: Any, text: str) -> str | None:
    """One of the items just offered, typed instead of clicked: "第二个", or words of its title ("普通护照")."""
    offered = tracker.slot("offered_services") or []
    t = compact(text)
    if m := _ORDINAL.fullmatch(t):
        index = "123456789".find(m.group(1)) if m.group(1).isdigit() else "一二三四五六七八九".find(m.group(1))
        return offered[index] if index < len(offered) else None
    titled = [code for code in offered if len(t) >= 2 and (guide := svc.kb.live_guide(code)) and t in guide.title]
    return titled[0] if len(titled) == 1 else None


def _resolve_service(turn: Turn, svc: Any, text: str, asked: bool) -> str | None:
    """The service a message names (a button's code, or a mention found by retrieval); a vague one is offered
    as buttons; an unknown one, when the service was `asked` for, is said to be unknown."""
    code = turn.tracker.entity("service_code") or _picked(turn.tracker, svc, text)
    if code:
        return code
    words = _mention(text)
    if not words:
        return None
    result = svc.retriever.search(words)
    if result.decision == "answer":
        return result.offered[0].code
    if result.decision == "clarify":
        turn.set("offered_services", [m.code for m in result.offered])
        turn.say("您要预约的是哪一项？", [{"title": m.title, "payload": f'/choose_option{{"service_code":"{m.code}"}}'}
                                   for m in result.offered])
    elif asked:
        turn.say("没有找到这个事项，请换个说法，例如“护照”“社保卡补办”。")
    return None


def _take_service(turn: Turn, svc: Any, code: str) -> None:
    guide = svc.kb.live_guide(code)
    if guide is None:
        turn.say("这个事项暂时不能预约，请换一个事项。").set("appt_service", None)
        return
    turn.say(f"好的，为您预约“{guide.title}”。").set("appt_service", code).set("offered_services", [])
    slot, day = turn.value("appt_slot"), day_of(turn.value("appt_date"))
    if slot and day and slot not in [s for s, _ in svc.booking.free_slots(code, day)]:
        turn.set("appt_slot", None)


def _first_message(turn: Turn, svc: Any) -> Reply:
    """Whatever the first message gives: the service (else the one just discussed), a date, a time."""
    tracker, text = turn.tracker, turn.tracker.text
    if tracker.entity("service_code") or _mention(text):
        code = _resolve_service(turn, svc, text, asked=False)
    else:
        code = tracker.slot("current_service")  # "我想预约办理" right after an answer about the service
    if code:
        _take_service(turn, svc, code)
    read_when(turn, svc, text, turn.value("appt_service"))
    return turn.done()


def _read_service(turn: Turn, svc: Any, text: str, asked: str | None) -> bool:
    """The service, when it was asked for or the citizen says it was the wrong one ("事项选错了", "换成办社保卡")."""
    t = compact(text)
    person = _NAME_CHANGE.search(t) or _PHONE_CHANGE.search(t)
    changing = wants_change(text) and not person and (asked != "appt_name" or _SERVICE_CHANGE.search(t) is not None)
    if asked != "appt_service" and not changing or bare_modify(text):
        return False
    code = _resolve_service(turn, svc, strip_change_words(text) if changing else text, asked == "appt_service")
    if code:
        _take_service(turn, svc, code)
        return True
    if changing and _SERVICE_CHANGE.search(t):
        turn.set("appt_service", None).set("appt_slot", None)
        return True
    return asked == "appt_service" and bool(turn.reply.messages)


def _read_person(turn: Turn, text: str, asked: str | None) -> bool:
    """Name and phone: when asked, or when the citizen corrects them ("姓名改成王芳", "手机号写错了")."""
    found = False
    if phone := clean_mobile(text):
        turn.set("appt_phone", phone)
        found = True
    elif asked != "appt_phone" and wants_change(text) and _PHONE_CHANGE.search(compact(text)):
        turn.set("appt_phone", None)
        found = True
    name_change = wants_change(text) and _NAME_CHANGE.search(compact(text)) is not None
    if asked == "appt_name" or name_change:
        said = _MOBILE_IN_TEXT.sub("", strip_change_words(text) if name_change else text).strip(" ,，")
        if name := clean_name(said):
            turn.set("appt_name", name)
            found = True
        elif name_change:
            turn.set("appt_name", None)
            found = True
    return found


@action("validate_appointment_form")
def validate_appointment_form(tracker: Tracker, svc: Any) -> Reply:
    text, turn = tracker.text, Turn(tracker)
    if started_now(tracker, FORM):
        return declined(tracker, svc, FORM) or _first_message(turn, svc)
    if wants_to_leave(text, FORM):
        return leave(FORM)
    asked = tracker.slot("requested_slot")
    if asked == "appt_confirmed" and confirms(text):
        return turn.set("appt_confirmed", "yes").done()
    if asked:
        turn.set(asked, None)
    if asked == "appt_service" and is_question(text):  # wording only: the NLU calls a bare "护照" a question
        return not_a_value(turn, svc, HINTS[asked])
    found = _read_service(turn, svc, text, asked)
    found = read_when(turn, svc, text, turn.value("appt_service")) or found
    found = _read_person(turn, text, asked) or found
    if found or asked == "appt_confirmed" and bare_modify(text):
        return turn.done()
    return not_a_value(turn, svc, HINTS.get(asked or "", HINTS["appt_service"]))


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else phone


@action("action_ask_appointment_form_appt_confirmed")
def action_ask_appointment_form_appt_confirmed(tracker: Tracker, svc: Any) -> Reply:
    """The read-back before anything is booked (or, after a bare "修改", which item to change)."""
    if bare_modify(tracker.text):
        return Reply().say(WHAT_TO_CHANGE)
    code, day = tracker.slot("appt_service"), day_of(tracker.slot("appt_date"))
    guide = svc.kb.live_guide(code) if code else None
    title = guide.title if guide else code
    return Reply().say(
        f"请核对预约信息：\n事项：{title}\n日期：{spoken(day) if day else ''}\n时段：{tracker.slot('appt_slot')}\n"
        f"姓名：{tracker.slot('appt_name')}\n手机：{_masked(tracker.slot('appt_phone') or '')}\n"
        "确认无误请点“确认预约”；要改的话直接说，例如“改成后天”“换成下午两点”。",
        [{"title": "确认预约", "payload": "确认预约"}, {"title": "修改", "payload": "修改"}])


@action("action_book_appointment")
def action_book_appointment(tracker: Tracker, svc: Any) -> Reply:
    code, day = tracker.slot("appt_service"), day_of(tracker.slot("appt_date"))
    reply = Reply()
    for slot in ("appt_service", "appt_date", "appt_slot", "appt_name", "appt_phone", "appt_confirmed"):
        reply.set(slot, None)
    if not code and day is None:  # the citizen left the form: nothing to say
        return reply
    guide = svc.kb.live_guide(code) if code else None
    if guide is None or day is None:
        return reply.say("抱歉，预约信息不完整，没有为您预约。请重新说“我要预约”。")
    if tracker.slot("appt_confirmed") != "yes":
        return reply.say("预约还没有确认，没有为您预约。请重新说“我要预约”。")
    try:
        appt = svc.booking.book(tracker.sender_id, code, guide.title, day, tracker.slot("appt_slot") or "",
                                tracker.slot("appt_name") or "", tracker.slot("appt_phone") or "")
    except BookingRefused as refused:
        return reply.say(f"抱歉，预约没有成功：{refused}请重新说“我要预约”。")
    return reply.say(f"预约成功！\n事项：{guide.title}\n时间：{spoken(appt.day)} {appt.slot}\n地点：{guide.location}\n"
                     f"确认码：{appt.code}\n请携带所需材料按时到达。如需取消或改约，请说“取消预约 {appt.code}”或"
                     f"“改约 {appt.code}”（需核对预约手机号后4位）。")
