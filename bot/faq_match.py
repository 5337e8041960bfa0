"""Whether one of a guide's FAQ entries answers the citizen's question.

An FAQ reply answers one particular question ("不会罚款…", "可以，只要你…"); given to another question about
the same item it reads as a wrong answer. So an entry is used only when the citizen's question is close to
its question or one of its similar questions (e5, the vectors retrieval indexes, cached), clearly closer
than to any other entry of the guide, and asks for the same attribute (a fee question is not answered by
the "多久能拿到" entry). The thresholds were measured by holding each FAQ phrasing of the sample knowledge
base out in turn (tests/test_answers_faq.py keeps the precision they give)."""
from __future__ import annotations

from typing import Any

import numpy as np

from bot.attributes import asks_how_to, detect_attribute
from knowledge_base.schema import Faq, GuideData

FAQ_MATCH = 0.90     # e5 similarity of the question to the entry's closest phrasing
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
    asked = detect_attribute(question)
    if asked and asked not in ("conditions", "proxy") and asked != detect_attribute(faq.question):
        return None
    return faq
