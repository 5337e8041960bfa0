"""Builds citizen-facing answers from a guide's fields: short, plain, sourced, with the next steps offered."""
from __future__ import annotations

import re

from knowledge_base.schema import ATTRIBUTES, GuideData

ATTRIBUTE_NAMES = {"materials": "所需材料", "fee": "收费标准", "time_limit": "办理时限", "location": "办理地点",
                   "office_hours": "办公时间", "phone": "咨询电话", "conditions": "办理条件",
                   "online": "网上办理", "steps": "办理流程"}
# phrases that ask for an attribute; also used to strip a follow-up down to its service mention
ATTRIBUTE_CUES = {
    "materials": "材料 带什么 带啥 带哪些 准备什么 准备啥 要带 需要带 资料 户口本 照片 复印件 原件 带上",
    "fee": "多少钱 收费 费用 要钱 花钱 免费 工本费 价格 交钱 几块钱",
    "time_limit": "多久 几天 多长时间 多少天 时限 什么时候能拿 多快 啥时候能 加急 要等",
    "location": "在哪 哪里 哪儿 地址 地点 窗口 去哪 什么地方 哪个部门",
    "office_hours": "几点 上班 下班 周末 周六 周日 星期天 节假日 办公时间 营业时间 中午 晚上",
    "phone": "电话 热线 联系方式 号码 咨询电话",
    "conditions": "条件 资格 符合 能不能办 可以办吗 谁能办 够不够 要求",
    "online": "网上 线上 手机上 小程序 app 不用跑 网办 在家",
    "steps": "流程 步骤 怎么走 程序 手续 先干什么 第一步",
}
_CUE_TO_ATTRIBUTE = {cue: attr for attr, cues in ATTRIBUTE_CUES.items() for cue in cues.split()}
_CUES = re.compile("|".join(sorted(map(re.escape, _CUE_TO_ATTRIBUTE), key=len, reverse=True)))
_FILLER = re.compile(r"[那这个的吗呢呀啊吧了要需是么嘛还也就请问一下我你他能可以得去办理怎么样咋啥什么哪些多少？?，,。！!\s]")
assert set(ATTRIBUTE_CUES) == set(ATTRIBUTES)


def detect_attribute(text: str) -> str | None:
    m = _CUES.search(text.lower())
    return _CUE_TO_ATTRIBUTE[m.group(0)] if m else None


def service_mention(text: str) -> str:
    """What is left of a question once attribute cues and filler words are removed ("" for 那要多少钱)."""
    return _FILLER.sub("", _CUES.sub("", text.lower()))


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {s}" for i, s in enumerate(items, 1))


def attribute_text(g: GuideData, attribute: str, question: str = "") -> str:
    """The asked field in plain words; "" when the guide leaves that field empty."""
    if attribute == "materials":
        lines = [f"{m.name}（{m.form}{f'{m.count}份' if m.count else ''}）" + (f"：{m.notes}" if m.notes else "")
                 for m in g.materials]
        asked = [m.name for m in g.materials if any(w in m.name for w in re.findall(r"[\u4e00-\u9fff]{2,}", question)
                                                     if len(w) >= 2 and w not in ("材料", "需要", "要带"))]
        lead = f"需要，{asked[0]}在材料清单里。" if asked else ""
        return lead + "需要准备：\n" + _numbered(lines) if lines else ""
    if attribute == "time_limit":
        tl = g.time_limit
        return f"法定办结时限{tl.legal}，承诺{tl.promised}办结。" if tl.legal and tl.promised else tl.legal or tl.promised
    if attribute == "online":
        parts = [f"网上办理：{g.online.url}" if g.online.url else "",
                 f"小程序路径：{g.online.mini_program_path}" if g.online.mini_program_path else ""]
        return "\n".join(p for p in parts if p)
    if attribute in ("conditions", "steps"):
        return _numbered(getattr(g, attribute))
    return getattr(g, attribute)


def best_faq_answer(g: GuideData, question: str) -> str:
    """The FAQ holding the passage retrieval matched; else the one sharing most characters with the question."""
    if not g.faqs:
        return ""
    for faq in g.faqs:
        if question in (faq.question, *faq.similar_questions):
            return faq.answer
    chars = set(re.findall(r"[\u4e00-\u9fff]", question))

    def overlap(faq) -> float:
        return max(len(chars & set(q)) / (len(set(q)) or 1) for q in [faq.question, *faq.similar_questions])

    return max(g.faqs, key=overlap).answer


def footer(g: GuideData, updated: str) -> str:
    bits = [f"网上办理：{g.online.url}" if g.online.url else "", f"（依据本市办事指南，更新于{updated}）"]
    return "\n".join(b for b in bits if b)


def answer_text(g: GuideData, question: str, attribute: str | None, updated: str) -> str:
    field = attribute_text(g, attribute, question) if attribute else ""
    if field:
        body = f"【{g.title}】{ATTRIBUTE_NAMES[attribute]}：\n{field}"
    else:  # no attribute asked, or the guide leaves that field empty: answer from its FAQ
        body = f"【{g.title}】\n{best_faq_answer(g, question) or '指南中暂无这方面的信息，可拨打12345咨询。'}"
    others = "、".join(ATTRIBUTE_NAMES[a] for a in ("materials", "fee", "time_limit", "location", "online")
                      if a != attribute)
    return f"{body}\n{footer(g, updated)}\n还可以问我：{others}，或说“预约办理”。"
