"""action_handoff (a human takes over the same conversation) and action_rate_answer (two unsatisfied
ratings in a row hand off too)."""
from __future__ import annotations

from typing import Any

from bot.actions.protocol import Reply, Tracker, action

RATINGS = ("satisfied", "unsatisfied")
UNSATISFIED_BEFORE_HANDOFF = 2


def hand_off(tracker: Tracker, svc: Any, reason: str) -> Reply:
    """The conversation goes to a human: a ticket in the queue; the citizen learns their place and wait."""
    opened = svc.conversations.hand_off(tracker.sender_id, reason)
    return (Reply().set("failed_turns", 0).say(svc.conversations.desk.waiting_text(opened))
            .meta(decision="handoff", matches=[], mode="human", ticket=opened.ticket.id))


@action("action_handoff")
def action_handoff(tracker: Tracker, svc: Any) -> Reply:
    """Only when the citizen of this conversation has just asked for a human (every rule that leads here
    starts with request_human); the other hand-offs are the actions' own decisions (not understood twice,
    two unsatisfied ratings) and the gateway's (sensitive topics)."""
    if tracker.intent != "request_human":
        return Reply().say("如需人工服务，请直接说“转人工”。")
    return hand_off(tracker, svc, "asked")


@action("action_rate_answer")
def action_rate_answer(tracker: Tracker, svc: Any) -> Reply:
    rating = tracker.entity("rating")
    if rating not in RATINGS:
        rating = "unsatisfied" if "不" in tracker.text or "没" in tracker.text else "satisfied"
    svc.conversations.rate_last_answer(tracker.sender_id, rating)
    if rating == "unsatisfied":
        if svc.conversations.unsatisfied_in_a_row(tracker.sender_id) >= UNSATISFIED_BEFORE_HANDOFF:
            return hand_off(tracker, svc, "unsatisfied")
        return Reply().say("抱歉没能帮到您。您可以换个说法再问一次，或说“转人工”由客服为您解答。")
    return Reply().template("utter_rate_thanks")
