"""Builds citizen-facing answers from a guide's fields: short, plain, sourced, with the next steps offered.

Three kinds of answer, chosen by the caller (bot/actions/answering.py) from what was asked:
* the asked attribute's field ("【普通护照申领】收费标准：…"), or, when the guide leaves that field empty,
  a plain "指南里没有写明…" with buttons for what the guide does have;
* the guide's summary for a general question or "X怎么办" (who, where, what to bring, how long, online);
* an FAQ reply, only when its question matches the citizen's, introduced by that question."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.attributes import ATTRIBUTE_NAMES, detect_attribute, service_mention  # noqa: F401  (the forms and the
# conversation eval import ATTRIBUTE_NAMES and service_mention from here)
from knowledge_base.schema import Faq, GuideData

SUMMARY_MATERIALS = 3  # materials named in a summary before "等N项"
OFFERED_ATTRIBUTES = ("materials", "fee", "benefit", "time_limit", "location", "online")


@dataclass
class Answer:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def attribute_button(code: str, attribute: str, title: str | None = None) -> dict[str, str]:
    """One click asks `attribute` of item `code` (the intent the options list uses, with the attribute)."""
    return {"title": title or ATTRIBUTE_NAMES[attribute],
            "payload": f'/choose_option{{"service_code":"{code}","attribute":"{attribute}"}}'}


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {s}" for i, s in enumerate(items, 1))


def _time_limit(g: GuideData) -> str:
    tl = g.time_limit
    promised = tl.promised if tl.promised.endswith("办结") else f"{tl.promised}办结"
    return f"法定办结时限{tl.legal}，承诺{promised}。" if tl.legal and tl.promised else tl.legal or tl.promised


def attribute_text(g: GuideData, attribute: str, question: str = "") -> str:
    """The asked field in plain words; "" when the guide leaves that field empty (or has none: proxy)."""
    if attribute == "materials":
        lines = [f"{m.name}（{m.form}{f'{m.count}份' if m.count else ''}）" + (f"：{m.notes}" if m.notes else "")
                 for m in g.materials]
        named = re.findall(r"[\u4e00-\u9fff]{2,}", service_mention(question))  # "要带身份证吗" → 身份证
        asked = [m.name for m in g.materials if any(w in m.name for w in named)]
        lead = f"需要，{asked[0]}在材料清单里。" if asked and detect_attribute(question) == "materials" else ""
        return lead + "需要准备：\n" + _numbered(lines) if lines else ""
    if attribute == "time_limit":
        return _time_limit(g)
    if attribute == "online":
        parts = [f"网上办理：{g.online.url}" if g.online.url else "",
                 f"小程序路径：{g.online.mini_program_path}" if g.online.mini_program_path else ""]
        return "\n".join(p for p in parts if p)
    if attribute == "conditions":
        who = f"办理对象：{g.target_group}\n" if g.target_group else ""
        return who + _numbered(g.conditions) if g.conditions or who else ""
    if attribute == "steps":
        return _numbered(g.steps)
    if attribute == "proxy":
        return ""
    return getattr(g, attribute)


def has_attribute(g: GuideData, attribute: str) -> bool:
    return bool(attribute_text(g, attribute))


def summary_text(g: GuideData) -> str:
    """Who, where, what to bring (the first items, "等N项"), how long, and the benefit when the item pays one."""
    usual = [m.name for m in g.materials if not m.notes.startswith("仅")] or [m.name for m in g.materials]
    bring = "、".join(usual[:SUMMARY_MATERIALS]) + (f"等{len(g.materials)}项" if len(g.materials) > SUMMARY_MATERIALS
                                                    else "")
    who = g.target_group or (g.conditions[0] if g.conditions else "")
    lines = [("办理对象", who), ("办理地点", g.location), (ATTRIBUTE_NAMES["materials"], bring),
             (ATTRIBUTE_NAMES["time_limit"], _time_limit(g)), (ATTRIBUTE_NAMES["benefit"], g.benefit)]
    return "\n".join(f"{label}：{text}" for label, text in lines if text)


def faq_text(faq: Faq) -> str:
    return f"关于“{faq.question}”：\n{faq.answer}"


def missing_answer(g: GuideData, attribute: str) -> Answer:
    """The guide does not say: said plainly, with what it does have as buttons (one click answers)."""
    ask = f"可以拨打{g.phone}问清楚，" if g.phone else ""
    text = f"《{g.title}》指南里没有写明{ATTRIBUTE_NAMES[attribute]}，{ask}也可以看看指南里写了的内容："
    if attribute == "proxy" and g.target_group:
        text += f"\n办理对象：{g.target_group}"
    offered = [a for a in OFFERED_ATTRIBUTES if a != attribute and has_attribute(g, a)]
    return Answer(text, [attribute_button(g.code, a) for a in offered])


def footer(g: GuideData, updated: str, shows_url: bool) -> str:
    bits = [f"网上办理：{g.online.url}" if g.online.url and not shows_url else "",
            f"（依据本市办事指南，更新于{updated}）"]
    return "\n".join(b for b in bits if b)


def compose(g: GuideData, attribute: str | None, question: str, faq: Faq | None, updated: str) -> Answer:
    """The answer to `question` about guide `g`: the asked field; for eligibility and 代办/异地 the matching
    FAQ first (its question is more specific than the conditions list); a matching FAQ for a general
    question; the summary otherwise. `faq` is given only when it matches the question."""
    field_text = attribute_text(g, attribute, question) if attribute else ""
    buttons: list[dict[str, str]] = []
    if field_text and not (faq and attribute == "conditions"):
        body = f"【{g.title}】{ATTRIBUTE_NAMES[attribute]}：\n{field_text}"
    elif faq:
        body = f"【{g.title}】\n{faq_text(faq)}"
    elif attribute:
        missing = missing_answer(g, attribute)
        body, buttons = f"【{g.title}】\n{missing.text}", missing.buttons
    else:
        body = f"【{g.title}】\n{summary_text(g)}"
    others = "、".join(ATTRIBUTE_NAMES[a] for a in OFFERED_ATTRIBUTES
                      if a != attribute and (a != "benefit" or g.benefit))
    shows_url = attribute == "online" and bool(field_text)
    return Answer(f"{body}\n{footer(g, updated, shows_url)}\n还可以问我：{others}，或说“预约办理”。", buttons)
