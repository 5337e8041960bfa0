"""Whether one of a guide's FAQ entries answers the citizen's question.

An FAQ reply answers one particular question ("不会罚款…", "可以，只要你…"); given to another question about
the same item it reads as a wrong answer. So an entry is used only when the citizen's question is close to
its question or one of its similar questions (e5, the vectors retrieval indexes, cached), clearly closer
than to any other entry of the guide, and asks for the same attribute (a fee question is not answered by
the "多久能拿到" entry); an entry asking "X怎么办理" gives way to the guide's summary. The thresholds were
measured by holding out, in turn, each of the 718 sample FAQ phrasings that would be answered from the FAQ:
12 % get their own entry back, at 97 % precision (the margin decides: 0.01 gives 95 %, 0.02 gives 100 % of
9 %); the rest get the summary. tests/test_answers_faq.py keeps those figures. On the dev set, 14 of its 106
specific questions get an FAQ reply, each the right one."""
from __future__ import annotations

from typing import Any

import numpy as np

from bot.attributes import asks_how_to, detect_attribute
from knowledge_base.schema import Faq, GuideData

FAQ_MATCH = 0.92     # e5 similarity of the question to the entry's closest phrasing
FAQ_MARGIN = 0.015   # ... ahead of the closest phrasing of any other entry of the guide


def faq_scores(svc: Any, guide: GuideData, question: str) -> list[float]:
    """Each entry's similarity to the question: the best of its question and similar questions."""
    normalize = svc.retriever.normalizer
    phrasings = [(i, normalize(q)) for i, faq in enumerate(guide.faqs) for q in (faq.question, *faq.similar_questions)]
    if not phrasings:
        return []
    passages = svc.encoder.encode_passages([p for _, p in phrasings])
    sims = passages @ svc.encoder.encode_queries([normalize(question)])[0]
    best = np.full(len(guide.faqs), -1.0)
    for (i, _), s in zip(phrasings, sims.tolist()):
        best[i] = max(best[i], s)
    return best.tolist()


def matching_faq(svc: Any, guide: GuideData, question: str) -> Faq | None:
    scores = faq_scores(svc, guide, question)
    if not scores:
        return None
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    top, runner_up = scores[order[0]], (scores[order[1]] if len(order) > 1 else -1.0)
    faq = guide.faqs[order[0]]
    if top < FAQ_MATCH or top - runner_up < FAQ_MARGIN:
        return None
    if asks_how_to(faq.question):  # "护照怎么办理？": the guide's summary answers that, fuller
        return None
    return faq if _compatible(detect_attribute(question), detect_attribute(faq.question)) else None


def _compatible(asked: str | None, answered: str | None) -> bool:
    """An entry about a field (fee, materials, time…) answers only that field's question; a specific question
    ("自己辞职的能领吗") only an entry about no field, eligibility or 代办."""
    loose = (None, "conditions", "proxy")
    return answered in loose if asked in loose else answered in (asked, None)
