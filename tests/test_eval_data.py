"""The evaluation sets: well formed, and the test set held out from the dev set and the knowledge base's FAQ."""
from __future__ import annotations

from collections import Counter

import pytest

from knowledge_base.sample_data import load_sample_guides
from retrieval.evaluate import Case, canonical, load_cases, near_duplicate, overlaps


@pytest.fixture(scope="module")
def guides():
    return load_sample_guides()


def _faq_cases(guides) -> list[Case]:
    return [Case(q, g.code) for g in guides for f in g.faqs for q in (f.question, *f.similar_questions)]


@pytest.mark.parametrize("name", ["dev", "test"])
def test_labels_name_catalogue_items(name, guides):
    codes = {g.code for g in guides}
    for case in load_cases(name):
        assert case.answers <= codes | {None}, case
        assert not (case.code and case.ambiguous), case


def test_test_set_size_and_balance(guides):
    cases = load_cases("test")
    kinds = Counter(c.kind for c in cases)
    assert kinds == {"in_scope": 240, "out_of_scope": 50, "ambiguous": 15}
    per_item = Counter(c.code for c in cases if c.kind == "in_scope")
    assert set(per_item.values()) == {3} and len(per_item) == len(guides)


@pytest.mark.parametrize("reference", ["dev", "faq", "test itself"])
def test_the_test_set_is_held_out(reference, guides):
    refs = {"dev": load_cases("dev"), "faq": _faq_cases(guides), "test itself": None}[reference]
    leaks = overlaps(load_cases("test"), refs)
    assert not leaks, f"{len(leaks)} test questions near-duplicate {reference}:\n" + "\n".join(
        f"  {c.question} ≈ {r.question}" for c, r in leaks)


@pytest.mark.parametrize("a, b", [
    ("身份證掉了嗎？", "身份证掉了"),  # traditional, punctuation, particle
    ("房本丢了怎么办", "房本丢了怎么补"),  # one character changed
    ("钱包被偷了身份证也没了，怎么补", "钱包被偷了身份证也没了"),  # a clause added
    ("社保卡芯片坏了刷不了，能换张新的吗", "社保卡芯片坏了刷不了想换张新的"),
    ("养老保险在深圳交了五年回老家怎么转", "深圳交了五年养老保险回老家怎么转"),  # reordered
])
def test_near_copies_are_near_duplicates(a, b):
    assert near_duplicate(canonical(a), canonical(b))


@pytest.mark.parametrize("a, b", [
    ("身份证丢了怎么补", "钱包被偷了身份证也没了"),  # same item, reworded
    ("社保卡坏了能换吗", "医院说我的社保卡读不出来，得换卡吗"),
    ("结婚证", "结婚证丢了怎么补"),  # a short question inside a longer one is not a copy of it
    ("我要投诉", "我要举报"),
])
def test_rewordings_are_not_near_duplicates(a, b):
    assert not near_duplicate(canonical(a), canonical(b))


def test_a_copy_with_another_outcome_is_not_a_leak():
    copy = [Case("离婚证丢了怎么补办", "MZ-03")]
    assert overlaps(copy, [Case("身份证丢了怎么补办", "GA-HZ-03")]) == []
    assert overlaps(copy, [Case("离婚证丢了咋补办呀", "MZ-03")]) != []


def test_risk_coverage_sweeps_each_systems_own_confidence():
    from retrieval.evaluate import Prediction, risk_coverage

    cases = [Case(f"q{i}", "A") for i in range(10)] + [Case("chat", None), Case("weather", None)]
    # confident and right on 6, then two wrong, then right on 2; out of scope scored 0.85 and 0.05
    scores = [0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.9, 0.8, 0.3, 0.2]
    preds = [Prediction("answer", ["B" if i in (6, 7) else "A"], [], s) for i, s in enumerate(scores)]
    preds += [Prediction("answer", ["A"], [], 0.85), Prediction("answer", ["A"], [], 0.05)]
    table = risk_coverage(cases, preds, (0.5, 0.6, 0.8, 1.0))
    assert table[0.5] == (0.0, 0.0) and table[0.6] == (0.0, 0.0)
    assert table[0.8] == (2 / 8, 0.5)  # threshold 0.8 lets 'chat' (0.85) through
    assert table[1.0] == (2 / 10, 0.5)
