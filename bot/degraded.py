"""Degraded mode: when the Rasa server cannot be reached (down, restarting, too slow), the app answers on its
own from the knowledge base, through the same answering action Rasa would have called, so a citizen still
gets the guide. What needs dialogue state (forms: bookings, progress queries, complaints) waits for Rasa;
the citizen is told so and offered a human. Buttons keep working: their payloads (`/choose_option{…}`,
`/request_human`, `/rate_answer{…}`) are read here the way Rasa's NLU would read them."""
from __future__ import annotations

import json
import re
from typing import Any

from bot.actions.protocol import ACTIONS, ActionCall, Entity, Intent, Message, Reply, TrackerState, Tracker

_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.S)
_FORM_WORDS = re.compile(r"预约|改约|取消预约|进度|办件|投诉|举报|建议")
BUSY = ("智能对话服务正在恢复中，预约、进度查询和投诉登记请稍后再试；急事请拨打12345热线，或点“转人工服务”。")


def _message(text: str) -> Message:
    """The message as Rasa's NLU would give it for a button payload; else a plain question."""
    m = _PAYLOAD.match(text.strip())
    if m is None:
        return Message(text=text, intent=Intent(name="ask_service"))
    try:
        entities = [Entity(entity=k, value=str(v)) for k, v in json.loads(m.group(2) or "{}").items()]
    except (ValueError, AttributeError):
        entities = []
    return Message(text=text, intent=Intent(name=m.group(1)), entities=entities)


def answer_without_rasa(svc: Any, sender_id: str, text: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages and turn metadata for one citizen message, with no Rasa."""
    message = _message(text)
    action = {"request_human": "action_handoff", "rate_answer": "action_rate_answer"}.get(
        message.intent.name or "", "action_answer")
    tracker = Tracker(ActionCall(next_action=action, sender_id=sender_id,
                                 tracker=TrackerState(sender_id=sender_id, latest_message=message)))
    reply: Reply = ACTIONS[action](tracker, svc)
    messages, meta = [], {"decision": "dialogue", "matches": []}
    for msg in reply.messages:
        if "custom" in msg:
            meta.update(msg["custom"]["govbot"])
        elif "text" in msg:
            messages.append({k: v for k, v in msg.items() if k in ("text", "buttons")})
        elif msg.get("response") == "utter_rate_thanks":
            messages.append({"text": "感谢您的评价！"})
    if action == "action_answer" and _FORM_WORDS.search(text):
        messages.append({"text": BUSY})
    return messages, meta
