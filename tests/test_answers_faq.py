"""FAQ replies only when their question matches (bot/faq_match.py), measured the way its thresholds were
chosen: every phrasing of every sample FAQ entry that would be answered from the FAQ (a specific question, not
"X怎么办" and not an attribute with a field of its own) is held out of its entry and asked. A reply must be
that entry's (precision); the rest get the guide's summary, which is never wrong, only less direct."""
from __future__ import annotations

import pytest

from bot.attributes import asks_how_to, detect_attribute
from bot.faq_match import matching_faq

pytestmark = pytest.mark.slow  # about a thousand questions through e5

MIN_PRECISION = 0.95
MIN_ANSWERED = 0.10


def _held_out(guide, entry: int, phrasing: str):
    """The guide with one phrasing taken out of one FAQ entry (a main question gives way to a similar one)."""
    faqs = list(guide.faqs)
    faq = faqs[entry]
    rest = [q for q in (faq.question, *faq.similar_questions) if q != phrasing]
    faqs[entry] = faq.model_copy(update={"question": rest[0], "similar_questions": rest[1:]})
    return guide.model_copy(update={"faqs": faqs})


def test_held_out_faq_phrasings_get_their_own_entry_or_none(services):
    asked = answered = right = 0
    wrong: list[str] = []
    for guide in services.kb.live():
        for i, faq in enumerate(guide.faqs):
            phrasings = [faq.question, *faq.similar_questions]
            for phrasing in phrasings:
                if len(phrasings) < 2 or asks_how_to(phrasing) or detect_attribute(phrasing) not in (
                        None, "conditions", "proxy"):
                    continue
                asked += 1
                got = matching_faq(services, _held_out(guide, i, phrasing), phrasing)
                if got is None:
                    continue
                answered += 1
                if got.answer == faq.answer:
                    right += 1
                else:
                    wrong.append(f"{guide.code} 「{phrasing}」 → 「{got.question}」")
    precision = right / max(1, answered)
    print(f"\n{asked} held-out phrasings, {answered / asked:.1%} answered from the FAQ, precision {precision:.1%}")
    assert precision >= MIN_PRECISION, wrong
    assert answered / asked >= MIN_ANSWERED
