"""Conversation memory: the services discussed so far and the citizen's earlier questions.

Citizens come back to an item ("刚才那个公积金的呢，在哪办") and answer an options list by typing instead of
clicking ("要带啥子东西"). The memory lives in the tracker: the slot `discussed_services` (codes, newest
first, at most DISCUSSED_MAX, set on every answer) and the conversation's events (what the citizen said)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from bot.actions.protocol import Reply, Tracker
from knowledge_base.schema import GuideData
from retrieval.normalize import Normalizer

DISCUSSED_MAX = 5
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ANSWER_MARK = "【"  # every answer starts with the item's title in 【】


def discussed(tracker: Tracker) -> list[str]:
    return list(tracker.slot("discussed_services") or [])


def remember(reply: Reply, tracker: Tracker, code: str) -> Reply:
    """The answered item becomes the newest discussed one."""
    return reply.set("discussed_services", [code, *[c for c in discussed(tracker) if c != code]][:DISCUSSED_MAX])


def earlier_questions(tracker: Tracker, limit: int = 2) -> list[str]:
    """What the citizen typed since the bot last answered from a guide (newest last), without the latest
    message and button payloads: the question an options list is still open for."""
    texts: list[str] = []
    events = tracker.call.tracker.events
    latest_seen = False
    for event in reversed(events):
        if event.event == "bot" and (event.text or "").startswith(_ANSWER_MARK):
            break
        if event.event != "user" or not event.text:
            continue
        if not latest_seen:  # the message being answered now
            latest_seen = True
            continue
        if not event.text.startswith("/"):
            texts.append(event.text)
        if len(texts) >= limit:
            break
    return texts[::-1]


def _describes(mention: str, names: str) -> bool:
    """Every character of the mention is in the names, and two of them stand together there ("公积金" →
    住房公积金提取（租房）; "结婚" → 结婚登记, not 离婚登记)."""
    chars = _HAN.findall(mention)
    if len(chars) < 2 or not set(chars) <= set(names):
        return False
    return any(mention[i:i + 2] in names for i in range(len(mention) - 1))


def described(mention: str, guides: Iterable[GuideData], titles_only: bool = False) -> list[str]:
    """The codes of the guides whose title or keywords (or title alone) the mention describes, in the order
    given (discussed ones: newest first). Titles alone tell a service's name ("身份证", "公积金") from the
    everyday words keywords also hold ("本地户口", "老人补贴")."""
    mention = "".join(_HAN.findall(Normalizer.basic(mention)))
    return [g.code for g in guides
            if _describes(mention, Normalizer.basic(" ".join([g.title] if titles_only else [g.title, *g.keywords])))]
