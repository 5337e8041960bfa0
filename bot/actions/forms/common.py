"""What every form's validation shares. While a form is open its validation action judges every message
(the slot mappings hand it all but 转人工 / restart): leave, change, accept, answer a question, or re-ask.

Rasa runs the validation at the form's first turn too, so a form can refuse to start (a prompt-injection
line, or a message that does not ask for the form: "我腿脚不好能叫人上门办不") and take whatever the first
message already gives. Leaving clears the form's slots and ends the loop (an `active_loop` event with no
name); the completing action then finds nothing to act on and stays silent, so the citizen hears the
stop once, from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.actions.answering import RATING_BUTTONS, answer_question
from bot.actions.protocol import Reply, Tracker
from bot.form_listening import asks_for, is_injection, is_question, refuses

FORM_SLOTS = {
    "progress_form": ("application_no", "phone_tail"),
    "appointment_form": ("appt_service", "appt_date", "appt_slot", "appt_name", "appt_phone", "appt_confirmed"),
    "cancel_form": ("confirmation_code", "phone_tail", "appt_confirmed"),
    "reschedule_form": ("confirmation_code", "phone_tail", "appt_date", "appt_slot", "appt_confirmed"),
    "complaint_form": ("complaint_kind", "complaint_category", "complaint_content", "complaint_contact"),
}
STOPPED = {
    "progress_form": "好的，已停止查询办件进度。",
    "appointment_form": "好的，已停止预约，没有为您预约任何时段。",
    "cancel_form": "好的，已停止取消，您的预约保持不变。",
    "reschedule_form": "好的，已停止改约，您的预约保持不变。",
    "complaint_form": "好的，已停止登记，没有提交任何内容。",
}
AGAIN = "需要时随时可以重新开始。"
NOT_REPROGRAMMABLE = ("我是政务服务助手，只按本市办事指南提供服务，不能更改设定。需要预约、查进度或投诉，"
                      "请直接告诉我要办的事，例如“预约明天办护照”。")


@dataclass
class Turn:
    """One message's validation: the slot values as they stand after it, and what the citizen is told."""

    tracker: Tracker
    updates: dict[str, Any] = field(default_factory=dict)
    reply: Reply = field(default_factory=Reply)

    def value(self, slot: str) -> Any:
        return self.updates[slot] if slot in self.updates else self.tracker.slot(slot)

    def set(self, slot: str, value: Any) -> "Turn":
        self.updates[slot] = value
        return self

    def say(self, text: str, buttons: list[dict[str, str]] | None = None) -> "Turn":
        self.reply.say(text, buttons)
        return self

    def done(self) -> Reply:
        for slot, value in self.updates.items():
            self.reply.set(slot, value)
        return self.reply


def started_now(tracker: Tracker, form: str) -> bool:
    """This is the form's first turn: Rasa validates at activation (with the loop set by an `active_loop`
    event after the citizen's message) and, when that gave nothing, once more before the loop is recorded."""
    if tracker.active_loop != form:
        return True
    for event in reversed(tracker.call.tracker.events):
        if event.event == "user":
            return False
        if event.event == "active_loop" and event.name == form:
            return True
    return False


def leave(form: str, said: bool = True) -> Reply:
    """End the form: its slots cleared, the loop ended; `said`: the citizen hears that it stopped."""
    reply = Reply()
    for slot in FORM_SLOTS[form]:
        reply.set(slot, None)
    reply.set("requested_slot", None)
    reply.events.append({"event": "active_loop", "name": None, "timestamp": None})
    return reply.say(f"{STOPPED[form]}{AGAIN}") if said else reply


def answer_inside(tracker: Tracker, svc: Any, reply: Reply) -> Reply:
    """The citizen's question answered (the form then asks its question again); no rating prompt in the
    middle of a form. An answer that handed the citizen to a human ends the form."""
    answer = answer_question(tracker, svc)
    reply.events += answer.events
    reply.messages += [m for m in answer.messages if m.get("buttons") != RATING_BUTTONS]
    handed_off = any(m.get("custom", {}).get("govbot", {}).get("mode") == "human" for m in answer.messages)
    ended = any(e["event"] == "active_loop" for e in reply.events)
    if handed_off and tracker.active_loop in FORM_SLOTS and not ended:
        reply.events += leave(tracker.active_loop, said=False).events
    return reply


def declined(tracker: Tracker, svc: Any, form: str, kind: str = "complaint") -> Reply | None:
    """At the form's first turn: a line that tries to re-program the bot, a no to this very form ("算了不投诉了"
    read as a complaint), or a message that does not ask for this form, ends the form at once (a question is
    answered as the question it is); else None."""
    if is_injection(tracker.text):
        return leave(form, said=False).say(NOT_REPROGRAMMABLE)
    if refuses(form, tracker.text):
        return leave(form, said=False).say("好的。还有什么需要帮您的吗？")
    if not asks_for(form, tracker.text, kind):
        return answer_inside(tracker, svc, leave(form, said=False))
    return None


def not_a_value(turn: Turn, svc: Any, hint: str) -> Reply:
    """A message that is no value of the asked slot: a question is answered, a re-programming line refused,
    anything else gets the hint; the form then asks again."""
    tracker = turn.tracker
    if is_injection(tracker.text):
        return turn.say(NOT_REPROGRAMMABLE).done()
    if is_question(tracker.text, tracker.intent):
        return answer_inside(tracker, svc, turn.done())
    return turn.say(hint).done()
