"""action_safety: Rasa's NLU judged the message `sensitive_topic` (defence in depth: the gateway checks every
message against the same policy before Rasa sees it, so this runs when only the NLU model recognised it).
The policy must agree, a little below its own bars (two signals); then the answer is the gateway's: the
topic's words and hotlines, a human when it says so. When the policy sees no topic at all, the NLU slipped
and the message is answered as the question it is."""
from __future__ import annotations

from typing import Any

from bot.actions.answering import answer_question
from bot.actions.protocol import Reply, Tracker, action
from bot.safety import respond


@action("action_safety")
def action_safety(tracker: Tracker, svc: Any) -> Reply:
    verdict = svc.safety.second_opinion(tracker.text)
    if verdict is None:
        return answer_question(tracker, svc)
    answer = respond(verdict, svc.conversations, tracker.sender_id, "bot")
    reply = Reply()
    for message in answer.messages:
        reply.say(message["text"], message.get("buttons"))
    return reply.meta(**answer.meta)
