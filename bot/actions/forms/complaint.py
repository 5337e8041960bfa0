"""Complaints and suggestions: the category (from its list, or close words: "态度差" → 服务态度), what happened
(a complaint, not a question and not a cancel), and a call-back number or "不留". A first message that already
tells the story ("我要投诉，窗口工作人员态度很差") fills what it gives. A question asked on the way ("护照要多少钱")
is answered and never filed; the NLU intent is not trusted here (it calls many complaints questions)."""
from __future__ import annotations

import re
from typing import Any

from bot.actions.forms.common import NOT_REPROGRAMMABLE, Turn, answer_inside, declined, leave, started_now
from bot.actions.protocol import Reply, Tracker, action
from bot.appointments import clean_mobile
from bot.form_listening import (COMPLAINT_CATEGORIES, compact, complaint_category, is_injection, is_question,
                                sounds_like_complaint, wants_to_leave)

FORM = "complaint_form"
COMPLAINT_LENGTH = (5, 2000)
GREETING = {"complaint": "好的，我来帮您登记投诉，会转交相关部门处理。", "suggestion": "感谢您愿意提建议，我来帮您记录。"}
LABEL = {"complaint": "投诉", "suggestion": "建议"}
_NO_CONTACT = re.compile(r"不留|不用|不需要|不要|不方便|不想留|不愿意|免了|没有手机|没手机|^不$|^no$")
_LEAVING_WORDS = re.compile(r"投诉|建议|登记|提交|反映|举报")
_TRIGGER = re.compile(r"^(?:我|俺)?(?:要|想|来)?(?:投诉|举报|反映|提个?建议|建议|提个?意见|吐槽)(?:一下|下)?")
_CATEGORY_BUTTONS = [{"title": c, "payload": c} for c in COMPLAINT_CATEGORIES]


def _kind(tracker: Tracker) -> str:
    if tracker.intent in ("suggest", "complain"):
        return "suggestion" if tracker.intent == "suggest" else "complaint"
    return "suggestion" if re.search(r"建议|提议|希望", tracker.text) else "complaint"


def content_problem(content: str) -> str | None:
    low, high = COMPLAINT_LENGTH
    if len(content) < low:
        return f"内容太短了，请具体描述一下（至少{low}个字）。"
    if len(content) > high:
        return f"内容太长了，请精简到{high}字以内。"
    return None


def _first_message(turn: Turn, kind: str) -> Reply:
    text = turn.tracker.text.strip()
    story = _TRIGGER.sub("", compact(text))
    turn.set("complaint_kind", kind).say(GREETING[kind])
    if story and (category := complaint_category(story)):
        turn.set("complaint_category", category)
    if len(story) >= 8 and sounds_like_complaint(story, kind) and not content_problem(text):
        turn.set("complaint_content", text)
    return turn.done()


def _asks_instead(text: str, kind: str) -> bool:
    """A short question with none of a complaint's (or a wish's) words: "护照要多少钱" at the category step
    (a citizen telling what happened takes more words, even when it ends with "对吗")."""
    return len(compact(text)) < 20 and is_question(text) and not sounds_like_complaint(text, kind)


@action("validate_complaint_form")
def validate_complaint_form(tracker: Tracker, svc: Any) -> Reply:
    text, turn = tracker.text, Turn(tracker)
    if started_now(tracker, FORM):
        kind = _kind(tracker)
        return declined(tracker, svc, FORM, kind) or _first_message(turn, kind)
    asked, kind = tracker.slot("requested_slot"), tracker.slot("complaint_kind") or "complaint"
    t = compact(text)
    if asked == "complaint_contact" and (phone := clean_mobile(text)):
        return turn.set("complaint_contact", phone).done()
    if asked == "complaint_contact" and _NO_CONTACT.search(t) and not _LEAVING_WORDS.search(t):
        return turn.set("complaint_contact", "none").done()
    if wants_to_leave(text, FORM):
        return leave(FORM)
    if asked:
        turn.set(asked, None)
    if is_injection(text):
        return turn.say(NOT_REPROGRAMMABLE).done()
    if t in COMPLAINT_CATEGORIES and asked == "complaint_category":
        return turn.set("complaint_category", t).done()
    if _asks_instead(text, kind):
        return answer_inside(tracker, svc, turn.done())
    if asked == "complaint_category":
        if category := complaint_category(text):
            turn.set("complaint_category", category)
            if len(t) >= 12 and not content_problem(text.strip()):  # the story told at once
                turn.set("complaint_content", text.strip())
            return turn.done()
        return turn.say("请从这几类里选一个：服务态度、办事效率、政策咨询不清、其他。", _CATEGORY_BUTTONS).done()
    if asked == "complaint_content":
        if problem := content_problem(text.strip()):
            return turn.say(problem).done()
        return turn.set("complaint_content", text.strip()).done()
    return turn.say("请输入11位手机号；不想留联系方式请回复“不留”。").done()


@action("action_submit_complaint")
def action_submit_complaint(tracker: Tracker, svc: Any) -> Reply:
    kind = tracker.slot("complaint_kind")
    content = (tracker.slot("complaint_content") or "").strip()
    contact = tracker.slot("complaint_contact") or "none"
    reply = Reply()
    for slot in ("complaint_kind", "complaint_category", "complaint_content", "complaint_contact"):
        reply.set(slot, None)
    if not kind and not content:  # the citizen left the form: nothing to say
        return reply
    label = LABEL[kind or "complaint"]
    phone = clean_mobile(contact) if contact != "none" else ""
    if problem := content_problem(content):
        return reply.say(f"{label}没有登记：{problem}请重新开始登记。")
    if phone is None:
        return reply.say(f"{label}没有登记：联系电话格式不对，请重新开始登记。")
    ticket = svc.conversations.open_ticket(kind or "complaint", tracker.sender_id, tracker.transcript(),
                                           category=(tracker.slot("complaint_category") or "").strip()[:40],
                                           content=content, contact=phone)
    follow = "工作人员会在3个工作日内电话回访。" if phone else "您未留联系方式，可凭工单号拨打12345查询处理结果。"
    return reply.say(f"您的{label}已登记，工单号 {ticket}。{follow}")
