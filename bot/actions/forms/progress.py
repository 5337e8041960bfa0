"""Progress query: an application number, then the phone tail that proves the citizen may see it.

"查一下办件进度 sq20261112008 手机尾号4321" (any width or case) fills both at once; the tail check and its
lock-out apply all the same (bot/tail_check.py)."""
from __future__ import annotations

from typing import Any

from bot.actions.forms.common import Turn, declined, leave, not_a_value, started_now
from bot.actions.protocol import Reply, Tracker, action
from bot.form_listening import application_number, phone_tail, wants_to_leave
from bot.tail_check import TailVerdict, locked_message

FORM = "progress_form"
ASK_NUMBER = "请输入受理回执上的办件编号（例如 SQ20261102001）；不查了请说“算了”。"
ASK_TAIL = "请输入4位数字，即申请时预留手机号的最后4位；不查了请说“算了”。"


def judge_tail(turn: Turn, verdict: TailVerdict, tail: str, what: str, subject_slot: str) -> None:
    """Keep a right tail; re-ask a wrong one; once locked, forget the subject too (asked again, and refused
    while the lock lasts)."""
    refusal = verdict.refusal(what)
    if refusal is None:
        turn.set("phone_tail", tail)
        return
    turn.say(refusal).set("phone_tail", None)
    if verdict.locked_until is not None:
        turn.set(subject_slot, None)


def _take_number(turn: Turn, svc: Any, number: str) -> None:
    found = svc.applications.lookup(number)
    if found is None:
        turn.say(f"没有查到办件编号“{number}”，请核对受理回执上的编号后重新输入（例如 SQ20261102001）。")
        turn.set("application_no", None)
    elif until := svc.applications.locked_until(found.number):
        turn.say(locked_message("办件", until)).set("application_no", None)
    else:
        turn.set("application_no", found.number).set("phone_tail", None)  # a new number: its tail asked afresh


def _take_tail(turn: Turn, svc: Any, tail: str) -> None:
    number = turn.value("application_no")
    found = svc.applications.lookup(number) if number else None
    if found is not None:
        judge_tail(turn, svc.applications.check_tail(found, tail), tail, "办件", "application_no")


@action("validate_progress_form")
def validate_progress_form(tracker: Tracker, svc: Any) -> Reply:
    text, turn, first = tracker.text, Turn(tracker), started_now(tracker, FORM)
    if first and (refusal := declined(tracker, svc, FORM)):
        return refusal
    if not first and wants_to_leave(text, FORM):
        return leave(FORM)
    asked = None if first else tracker.slot("requested_slot")
    if asked:
        turn.set(asked, None)
    number = application_number(text)
    tail = phone_tail(text, standalone=asked == "phone_tail" or number is not None)
    if number:
        _take_number(turn, svc, number)
    if tail and turn.value("application_no"):
        _take_tail(turn, svc, tail)
    if number or tail or first:
        return turn.done()
    return not_a_value(turn, svc, ASK_TAIL if asked == "phone_tail" else ASK_NUMBER)


@action("action_progress_result")
def action_progress_result(tracker: Tracker, svc: Any) -> Reply:
    number, tail = tracker.slot("application_no"), phone_tail(tracker.slot("phone_tail") or "")
    reply = Reply().set("application_no", None).set("phone_tail", None)
    if not number and not tail:  # the citizen left the form: nothing to say
        return reply
    p = svc.applications.lookup(number or "")
    if p is None or not tail:
        return reply.say("抱歉，办件编号或手机号后4位不完整，请重新说“查询办件进度”。")
    if refusal := svc.applications.check_tail(p, tail).refusal("办件"):
        return reply.say(refusal)
    return reply.say(f"办件编号 {p.number}（{p.service_title}）\n当前状态：{p.status}\n"
                     f"更新时间：{p.updated_at}" + (f"\n说明：{p.note}" if p.note else ""))
