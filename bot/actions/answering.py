"""action_answer (service questions, attribute follow-ups, chosen options) and action_fallback."""
from __future__ import annotations

from typing import Any

from bot.actions.protocol import Reply, Tracker, action
from bot.answers import answer_text, detect_attribute, service_mention
from core.clock import city_date
from handoff.tickets import END_PHRASES
from knowledge_base.schema import ATTRIBUTES
from retrieval.engine import Match, SearchResult

RATING_BUTTONS = [{"title": "满意", "payload": '/rate_answer{"rating":"satisfied"}'},
                  {"title": "不满意", "payload": '/rate_answer{"rating":"unsatisfied"}'}]
HUMAN_BUTTON = {"title": "转人工服务", "payload": "/request_human"}
# Never a dead end: an unanswered question still offers its closest items ("您是不是想问") when the calibrated
# chance that the right one is among the top three reaches this; below it (渔船, 天气, 你好) they are noise.
SUGGEST_FLOOR = 0.25
SUGGEST_MAX = 3


def _option_buttons(offered: list[Match]) -> list[dict[str, str]]:
    return [{"title": m.title, "payload": f'/choose_option{{"service_code":"{m.code}"}}'} for m in offered]


def answer_with(svc: Any, tracker: Tracker, code: str, attribute: str | None, matches: list[Match]) -> Reply:
    entry = svc.kb.live_entry(code)
    if entry is None:
        return Reply().say("抱歉，这个事项的指南已下线或正在更新，请稍后再试或说“转人工”。", [HUMAN_BUTTON]).meta(
            decision="handoff", matches=[])
    guide, published_at = entry
    updated = city_date(published_at).isoformat()  # the live version's publish date, not the last draft edit
    reply = Reply().set("current_service", code).set("offered_services", []).set("failed_turns", 0)
    passage = matches[0].passage if matches else ""
    reply.say(answer_text(guide, passage or tracker.text, attribute, updated))
    reply.say("这个回答对您有帮助吗？", RATING_BUTTONS)
    return reply.meta(decision="answer", matches=[m.as_dict() for m in matches[:1]] or
                      [{"code": code, "title": guide.title, "score": 1.0}])


def clarify(result: SearchResult) -> Reply:
    return (Reply().set("offered_services", [m.code for m in result.offered])
            .say("您想咨询的是下面哪一项？请点选，或者说得更具体一些。",
                 _option_buttons(result.offered) + [HUMAN_BUTTON])
            .meta(decision="clarify", matches=[m.as_dict() for m in result.offered]))


def not_found(tracker: Tracker, svc: Any, result: SearchResult) -> Reply:
    failed = int(tracker.slot("failed_turns") or 0) + 1
    reply = Reply().set("failed_turns", failed)
    if failed >= 2:  # not understood twice in a row: a human takes over
        opened = svc.conversations.hand_off(tracker.sender_id, "not_understood")
        return (Reply().set("failed_turns", 0)
                .say("抱歉，我还是没能理解您的问题，已为您转接人工客服。" + svc.conversations.desk.waiting_text(opened),
                     [{"title": "不用了，继续问机器人", "payload": END_PHRASES[0]}])
                .meta(decision="handoff", matches=[], mode="human", ticket=opened.ticket.id))
    closest = result.matches[:SUGGEST_MAX] if result.confidence >= SUGGEST_FLOOR else []
    if closest:
        reply.set("offered_services", [m.code for m in closest])
        reply.say("抱歉，没有找到相关的办事指南。您是不是想问下面这些事项？", _option_buttons(closest) + [HUMAN_BUTTON])
    else:
        reply.say("抱歉，没有找到相关的办事指南。您可以换个说法，比如说明要办的证件或事情（“身份证丢了怎么补”），"
                  "也可以转人工服务。", [HUMAN_BUTTON])
    return reply.meta(decision="handoff", matches=[m.as_dict() for m in closest])


def asked_attribute(tracker: Tracker) -> str | None:
    """The NLU entity when it is a known attribute (DIET may return the raw span), else the text's cues."""
    value = tracker.entity("attribute")
    if value in ATTRIBUTES:
        return value
    return detect_attribute(value or "") or detect_attribute(tracker.text)


def _chosen_code(tracker: Tracker) -> str | None:
    code = tracker.entity("service_code")
    if code:
        return code
    index = tracker.entity("option_index")
    offered = tracker.slot("offered_services") or []
    if index and index.isdigit() and 0 < int(index) <= len(offered):
        return offered[int(index) - 1]
    return None


@action("action_answer")
def action_answer(tracker: Tracker, svc: Any) -> Reply:
    attribute = asked_attribute(tracker)
    current = tracker.slot("current_service")
    if tracker.intent == "choose_option":
        code = _chosen_code(tracker)
        if code:
            return answer_with(svc, tracker, code, attribute, [])
    mentions_service = len(service_mention(tracker.text)) >= 2 or tracker.entity("service")
    if attribute and current and not mentions_service:
        return answer_with(svc, tracker, current, attribute, [])  # follow-up on the item in context
    result = svc.retriever.search(tracker.text)
    if result.decision == "answer":
        return answer_with(svc, tracker, result.offered[0].code, attribute, result.offered)
    if attribute and current and current in [m.code for m in result.offered]:
        return answer_with(svc, tracker, current, attribute, [])
    if result.decision == "clarify":
        return clarify(result)
    if attribute and current:
        return answer_with(svc, tracker, current, attribute, [])
    return not_found(tracker, svc, result)


@action("action_fallback")
def action_fallback(tracker: Tracker, svc: Any) -> Reply:
    """Low NLU confidence: try the knowledge base; clarify with its best items; then offer a human."""
    result = svc.retriever.search(tracker.text)
    if result.decision == "answer":
        return answer_with(svc, tracker, result.offered[0].code, asked_attribute(tracker), result.offered)
    if result.decision == "clarify":
        return clarify(result).set("failed_turns", int(tracker.slot("failed_turns") or 0) + 1)
    return not_found(tracker, svc, result)
