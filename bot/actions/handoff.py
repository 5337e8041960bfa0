"""action_handoff (a human takes over the same conversation) and action_rate_answer."""
from __future__ import annotations

from typing import Any

from bot.actions.protocol import Reply, Tracker, action

RATINGS = ("satisfied", "unsatisfied")


@action("action_handoff")
def action_handoff(tracker: Tracker, svc: Any) -> Reply:
    """Only when the citizen of this conversation has just asked for a human (every rule that leads here
    starts with request_human): nothing else may switch a conversation to human mode."""
    if tracker.intent != "request_human":
        return Reply().say("如需人工服务，请直接说“转人工”。")
    ticket = svc.conversations.open_ticket("handoff", tracker.sender_id, tracker.transcript())
    svc.conversations.set_mode(tracker.sender_id, "human")
    return (Reply().set("failed_turns", 0)
            .say(f"已为您转接人工客服（工单号 {ticket}）。工作时间（9:00-21:00）内客服会在这里直接回复您，"
                 "请不要关闭对话；非工作时间也可拨打12345热线。")
            .meta(decision="handoff", matches=[], mode="human", ticket=ticket))


@action("action_rate_answer")
def action_rate_answer(tracker: Tracker, svc: Any) -> Reply:
    rating = tracker.entity("rating")
    if rating not in RATINGS:
        rating = "unsatisfied" if "不" in tracker.text or "没" in tracker.text else "satisfied"
    svc.conversations.rate_last_answer(tracker.sender_id, rating)
    if rating == "unsatisfied":
        return Reply().say("抱歉没能帮到您。您可以换个说法再问一次，或说“转人工”由客服为您解答。")
    return Reply().template("utter_rate_thanks")
