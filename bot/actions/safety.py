"""action_safety: Rasa's NLU judged the message `sensitive_topic` (defence in depth: the gateway checks every
message against the same policy before Rasa sees it, so this runs when only the NLU model recognised it).
The answer is the gateway's: the policy's closest topic, its words and hotlines, a human when it says so."""
from __future__ import annotations

from typing import Any

from bot.actions.answering import HUMAN_BUTTON
from bot.actions.protocol import Reply, Tracker, action
from bot.safety import respond

NO_TOPIC = "如果您或身边的人正处在危险中，请立即拨打 110（报警）或 120（急救）。需要人帮忙，可以说“转人工”。"


@action("action_safety")
def action_safety(tracker: Tracker, svc: Any) -> Reply:
    verdict = svc.safety.check(tracker.text) or svc.safety.closest(tracker.text)
    if verdict is None:  # the policy has no topic at all (every one switched off)
        return Reply().say(NO_TOPIC, [HUMAN_BUTTON]).meta(decision="safety", topic="", matches=[], mode="bot")
    answer = respond(verdict, svc.conversations, tracker.sender_id, "bot")
    reply = Reply()
    for message in answer.messages:
        reply.say(message["text"], message.get("buttons"))
    return reply.meta(**answer.meta)
