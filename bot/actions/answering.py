"""Answering citizens' questions: `answer_question` is the one body of action_answer (service questions,
follow-ups, chosen options), action_fallback (low NLU confidence), action_deny (a "不" that is really a
question) and of a question asked inside a form (bot/actions/forms).

Which item a message is about, in order: a button's item; an item discussed earlier that the message names
again ("刚才那个公积金的呢"); for a message that names no service, the options list still open (with the
question it was offered for) or else the item in context; otherwise retrieval, which may answer, offer
options or find nothing. Which part of the item: bot/attributes.py; the words: bot/answers.py."""
from __future__ import annotations

import re
from typing import Any

from bot.actions.protocol import Reply, Tracker, action
from bot.answers import ATTRIBUTE_NAMES, attribute_button, compose, has_attribute
from bot.attributes import asks_how_to, detect_attribute, service_mention, without_cues
from bot.faq_match import matching_faq
from bot.memory import described, discussed, earlier_questions, remember
from core.clock import city_date
from handoff.tickets import END_PHRASES
from knowledge_base.schema import GuideData
from retrieval.engine import Match, SearchResult

RATING_BUTTONS = [{"title": "满意", "payload": '/rate_answer{"rating":"satisfied"}'},
                  {"title": "不满意", "payload": '/rate_answer{"rating":"unsatisfied"}'}]
HUMAN_BUTTON = {"title": "转人工服务", "payload": "/request_human"}
# Never a dead end: an unanswered question still offers its closest items ("您是不是想问") when the calibrated
# chance that the right one is among the top three reaches this; below it (渔船, 天气, 你好) they are noise.
SUGGEST_FLOOR = 0.25
SUGGEST_MAX = 3
# "the one we talked about": the items discussed so far are searched before the whole catalogue
_REFERS_BACK = re.compile(r"刚才|刚刚|之前|前面|上面|先前|方才|头先|前头|回到|[\u4e00-\u9fff]{2,}(那个|那项|那件)")


def _option_buttons(offered: list[Match], attribute: str | None = None) -> list[dict[str, str]]:
    """The options; when a follow-up asked for an attribute, each button carries it (one click answers)."""
    if attribute:
        return [attribute_button(m.code, attribute, m.title) for m in offered]
    return [{"title": m.title, "payload": f'/choose_option{{"service_code":"{m.code}"}}'} for m in offered]


def _wants_faq(attribute: str | None, question: str) -> bool:
    """An FAQ may answer a specific question, eligibility (its entries are more specific than the conditions
    list) and 代办/异地 (no field); never "X怎么办", which gets the summary."""
    return attribute in ("conditions", "proxy") or (attribute is None and not asks_how_to(question))


def answer_with(svc: Any, tracker: Tracker, code: str, attribute: str | None, matches: list[Match],
                question: str | None = None) -> Reply:
    entry = svc.kb.live_entry(code)
    if entry is None:
        return Reply().say("抱歉，这个事项的指南已下线或正在更新，请稍后再试或说“转人工”。", [HUMAN_BUTTON]).meta(
            decision="handoff", matches=[])
    guide, published_at = entry
    updated = city_date(published_at).isoformat()  # the live version's publish date, not the last draft edit
    question = question or tracker.text
    missing = attribute is not None and not has_attribute(guide, attribute)
    faq = matching_faq(svc, guide, question) if missing or _wants_faq(attribute, question) else None
    answer = compose(guide, attribute, question, faq, updated)
    reply = Reply().set("current_service", code).set("offered_services", []).set("failed_turns", 0)
    remember(reply, tracker, code)
    reply.say(answer.text, answer.buttons)
    reply.say("这个回答对您有帮助吗？", RATING_BUTTONS)
    return reply.meta(decision="answer", matches=[m.as_dict() for m in matches[:1]] or
                      [{"code": code, "title": guide.title, "score": 1.0}])


def clarify(offered: list[Match], attribute: str | None = None, again: bool = False) -> Reply:
    """The items to choose from; `again`: the citizen asked a follow-up instead of choosing, so the question
    names what they asked."""
    asked = f"您问的是哪一项的{ATTRIBUTE_NAMES[attribute]}？请点选：" if again and attribute else \
        "您想咨询的是下面哪一项？请点选，或者说得更具体一些。"
    return (Reply().set("offered_services", [m.code for m in offered])
            .say(asked, _option_buttons(offered, attribute) + [HUMAN_BUTTON])
            .meta(decision="clarify", matches=[m.as_dict() for m in offered]))


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
    """The attribute model's reading of the text; else the NLU entity (a button's attribute, or a span DIET
    found that the cues missed), unless the text asks "how do I…" (the summary)."""
    found = detect_attribute(tracker.text)
    if found or asks_how_to(tracker.text):
        return found
    value = tracker.entity("attribute")
    return value if value in ATTRIBUTE_NAMES else detect_attribute(value or "")


def _chosen_code(tracker: Tracker) -> str | None:
    code = tracker.entity("service_code")
    if code:
        return code
    index = tracker.entity("option_index")
    offered = tracker.slot("offered_services") or []
    if tracker.intent == "choose_option" and index and index.isdigit() and 0 < int(index) <= len(offered):
        return offered[int(index) - 1]
    return None


def _guides(svc: Any, codes: list[str]) -> list[GuideData]:
    """The live guides of these items, in the order given."""
    guides = {g.code: g for g in svc.kb.live(codes)} if codes else {}
    return [guides[c] for c in codes if c in guides]


def _names_another_service(svc: Any, tracker: Tracker, result: SearchResult, attribute: str | None,
                           current: GuideData | None) -> bool:
    """The message names an item other than the one in context: a title or keyword of retrieval's top item,
    or what is left of it once cues and filler go describes the title of one of its top three ("身份证";
    not "本地" or "老人"). A mention of the item in context, or of one
    of its materials in a materials question ("要带身份证吗" about the passport), names nothing new."""
    mention = service_mention(tracker.text)
    if current and (described(mention, [current]) or (attribute == "materials" and _a_material(current, mention))):
        return False
    if result.features.get("named", 0.0) > 0:
        return True
    top = _guides(svc, [m.code for m in result.matches[:3]])
    return bool(mention) and bool(described(svc.retriever.normalizer(mention), top, titles_only=True))


def _a_material(guide: GuideData, mention: str) -> bool:
    words = re.findall(r"[\u4e00-\u9fff]{2,}", mention)
    return bool(words) and all(any(w in m.name or m.name in w for m in guide.materials) for w in words)


def _open_options(svc: Any, tracker: Tracker, result: SearchResult, named: bool, attribute: str | None) -> Reply:
    """A message typed after an options list instead of a click. It may pick one of the items ("身份证"), or
    the earlier question and this one together may decide (answered with the attribute asked along the way);
    else the options are offered again, each button carrying the attribute asked."""
    offered = _guides(svc, list(tracker.slot("offered_services") or []))
    earlier = earlier_questions(tracker)
    attribute = attribute or next((a for a in map(detect_attribute, reversed(earlier)) if a), None)
    picked = described(service_mention(tracker.text), offered)
    if len(picked) == 1:
        return answer_with(svc, tracker, picked[0], attribute, [])
    together = svc.retriever.search(" ".join([*map(service_mention, earlier), service_mention(tracker.text)]))
    if together.decision == "answer" and (named or together.offered[0].code in [g.code for g in offered]):
        return answer_with(svc, tracker, together.offered[0].code, attribute, together.offered)
    if named and result.decision == "clarify":
        return clarify(result.offered, attribute)
    having = [g for g in offered if attribute and has_attribute(g, attribute)]
    if len(having) == 1:
        return answer_with(svc, tracker, having[0].code, attribute, [])
    if not offered:
        return not_found(tracker, svc, result)
    return clarify([Match(g.code, g.title, 1.0) for g in offered], attribute, again=True)


def _search(svc: Any, text: str, attribute: str | None) -> SearchResult:
    """Retrieval for the question; when it is unsure and the question asks for an attribute or "how", the
    service words alone ("护照" in "护照办下来要多久") may decide: the attribute's words pull toward other
    items' FAQ entries. Only an answer that names its item (one of its titles or keywords) is taken. On the dev
    and test sets this turns 10 offers of options into answers, 9 of them right (the tenth: 退休“一件事”联办
    for 退休手续)."""
    result = svc.retriever.search(text)
    if result.decision == "answer" or not (attribute or asks_how_to(text)):
        return result
    words = without_cues(text)
    if len(service_mention(text)) < 2:
        return result
    alone = svc.retriever.search(words)
    return alone if alone.decision == "answer" and alone.features.get("named", 0.0) > 0 else result


def answer_question(tracker: Tracker, svc: Any) -> Reply:
    """The reply to a citizen's question, whichever action runs it (see the module docstring)."""
    attribute = asked_attribute(tracker)
    chosen = _chosen_code(tracker)
    if chosen:  # a click answers the question the options were offered for
        question = next(iter(earlier_questions(tracker)[-1:]), "") if tracker.text.startswith("/") else tracker.text
        return answer_with(svc, tracker, chosen, attribute or detect_attribute(question), [], question or None)
    mention = service_mention(tracker.text)
    earlier_items = _guides(svc, discussed(tracker))
    if mention and _REFERS_BACK.search(tracker.text) and (back := described(mention, earlier_items)):
        return answer_with(svc, tracker, back[0], attribute, [])
    code = tracker.slot("current_service")
    current = next((g for g in earlier_items if g.code == code), None) or (svc.kb.live_guide(code) if code else None)
    result = _search(svc, tracker.text, attribute)
    named = _names_another_service(svc, tracker, result, attribute, current)
    if tracker.slot("offered_services") and not (named and result.decision == "answer"):
        return _open_options(svc, tracker, result, named, attribute)
    if current and not named and (attribute or asks_how_to(tracker.text) or matching_faq(svc, current, tracker.text)):
        return answer_with(svc, tracker, current.code, attribute, [])  # a follow-up on the item in context
    if result.decision == "answer":
        return answer_with(svc, tracker, result.offered[0].code, attribute, result.offered)
    if mention and (back := described(mention, earlier_items)):
        return answer_with(svc, tracker, back[0], attribute, [])
    if attribute and current and current.code in [m.code for m in result.offered]:
        return answer_with(svc, tracker, current.code, attribute, [])
    if result.decision == "clarify":
        return clarify(result.offered, attribute)
    if attribute and current:
        return answer_with(svc, tracker, current.code, attribute, [])
    return not_found(tracker, svc, result)


@action("action_answer")
def action_answer(tracker: Tracker, svc: Any) -> Reply:
    return answer_question(tracker, svc)


@action("action_fallback")
def action_fallback(tracker: Tracker, svc: Any) -> Reply:
    """Low NLU confidence: the same answering; a second unclear turn in a row goes to a human (not_found)."""
    reply = answer_question(tracker, svc)
    clarified = any(e["event"] == "slot" and e["name"] == "offered_services" and e["value"] for e in reply.events)
    if clarified and not any(e["name"] == "failed_turns" for e in reply.events if e["event"] == "slot"):
        reply.set("failed_turns", int(tracker.slot("failed_turns") or 0) + 1)
    return reply


@action("action_deny")
def action_deny(tracker: Tracker, svc: Any) -> Reply:
    """"不…" outside a form. A question that merely contains a no ("要钱不", "补办不要钱嘛", "周末去不得行")
    is answered as the question it is; a plain no is acknowledged (there is nothing to cancel)."""
    if detect_attribute(tracker.text):
        return answer_question(tracker, svc)
    return Reply().say("好的。还有其他需要帮您的吗？")
