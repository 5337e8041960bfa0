"""Evaluation sets, metrics, and the calibration fit.

An entry is in scope (`code`), out of scope (`code: null`) or ambiguous (`ambiguous: [codes]`).
Metrics over in-scope entries: top-1, recall@3, MRR, answer rate, wrong-answer rate (answered with
the wrong item). Over out-of-scope entries: rejection rate (not answered). Ambiguous entries count as
handled when the bot clarifies with an acceptable item or answers with one.

The test set is held out: no test question may be a near-duplicate (`near_duplicate`) of a dev question
(used for calibration) or of a knowledge-base FAQ question (indexed), nor of another test question.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from retrieval.normalize import Normalizer

EVAL_DIR = Path(__file__).parent / "eval_data"


@dataclass(frozen=True)
class Case:
    question: str
    code: str | None  # None: out of scope (unless ambiguous)
    ambiguous: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "ambiguous" if self.ambiguous else ("in_scope" if self.code else "out_of_scope")

    @property
    def answers(self) -> frozenset[str | None]:
        """The acceptable items; {None} when out of scope."""
        return frozenset(self.ambiguous or (self.code,))


@dataclass
class Prediction:
    decision: str  # answer | clarify | handoff
    ranked: list[str]  # item codes, best first
    offered: list[str]
    confidence: float = 0.0  # the system's own score for its top item (swept by `risk_coverage`)


System = Callable[[str], Prediction]


def load_cases(name: str) -> list[Case]:
    raw = yaml.safe_load((EVAL_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return [Case(str(r["q"]), r.get("code"), tuple(r.get("ambiguous") or ())) for r in raw]


def metrics(cases: list[Case], preds: list[Prediction]) -> dict:
    ins = [(c, p) for c, p in zip(cases, preds) if c.kind == "in_scope"]
    oos = [(c, p) for c, p in zip(cases, preds) if c.kind == "out_of_scope"]
    amb = [(c, p) for c, p in zip(cases, preds) if c.kind == "ambiguous"]
    n = max(1, len(ins))

    def rank_of(c: Case, p: Prediction) -> int | None:
        return p.ranked.index(c.code) + 1 if c.code in p.ranked else None

    top1 = sum(1 for c, p in ins if p.ranked[:1] == [c.code]) / n
    recall3 = sum(1 for c, p in ins if c.code in p.ranked[:3]) / n
    mrr = sum(1 / r for c, p in ins if (r := rank_of(c, p))) / n
    answered = [(c, p) for c, p in ins if p.decision == "answer"]
    correct_answers = sum(1 for c, p in answered if p.offered[:1] == [c.code])
    resolved = sum(1 for c, p in ins if (p.decision == "answer" and p.offered[:1] == [c.code])
                   or (p.decision == "clarify" and c.code in p.offered))
    oos_answered = sum(1 for _, p in oos if p.decision == "answer")
    amb_ok = sum(1 for c, p in amb if p.decision in ("answer", "clarify") and set(p.offered) & set(c.ambiguous))
    return {
        "in_scope": len(ins), "out_of_scope": len(oos), "ambiguous": len(amb),
        "top1": top1, "recall@3": recall3, "mrr": mrr,
        "answer_rate": len(answered) / n,
        "answer_accuracy": correct_answers / max(1, len(answered)),
        "resolved_rate": resolved / n,
        "wrong_answer_rate": (len(answered) - correct_answers) / n,
        "oos_rejection": 1 - oos_answered / max(1, len(oos)),
        "oos_answered": oos_answered,
        "ambiguous_handled": amb_ok / max(1, len(amb)),
    }


COVERAGES = (0.5, 0.6, 0.7, 0.8, 0.9)


def risk_coverage(cases: list[Case], preds: list[Prediction],
                  coverages: tuple[float, ...] = COVERAGES) -> dict[float, tuple[float, float]]:
    """Systems compared at the same answer rate: for each coverage c, the system answers (with its top
    item) the share c of in-scope questions it is most confident about, i.e. its own confidence swept to
    the threshold that lets that share through. Returns c → (wrong answers among those answered, share of
    out-of-scope questions at or above the same threshold)."""
    ins = sorted(((p.confidence, p.ranked[:1] == [c.code]) for c, p in zip(cases, preds) if c.kind == "in_scope"),
                 key=lambda t: -t[0])
    oos = [p.confidence for c, p in zip(cases, preds) if c.kind == "out_of_scope"]
    table = {}
    for coverage in coverages:
        answered = ins[:max(1, round(coverage * len(ins)))]
        threshold = answered[-1][0]
        table[coverage] = (sum(1 for _, right in answered if not right) / len(answered),
                           sum(1 for s in oos if s >= threshold) / max(1, len(oos)))
    return table


def confusions(cases: list[Case], preds: list[Prediction], titles: dict[str, str], worst: int = 12) -> list[str]:
    rows = Counter()
    examples: dict[tuple, str] = {}
    for c, p in zip(cases, preds):
        if c.kind == "in_scope" and p.ranked[:1] != [c.code]:
            key = (c.code, p.ranked[0] if p.ranked else "-")
            rows[key] += 1
            examples.setdefault(key, c.question)
        elif c.kind == "out_of_scope" and p.decision == "answer":
            key = ("(out of scope)", p.offered[0])
            rows[key] += 1
            examples.setdefault(key, c.question)
    return [f"{n}× {want} {titles.get(want, '')} → {got} {titles.get(got, '')}   e.g. 「{examples[(want, got)]}」"
            for (want, got), n in rows.most_common(worst)]


# ---- held-out check -----------------------------------------------------------------------------
_PARTICLES = re.compile("[吗呢吧啊呀嘛]")


def canonical(question: str) -> str:
    """What questions are compared on: simplified, half-width, lower case, without spaces, punctuation
    or modal particles (身份證掉了嗎？ → 身份证掉了)."""
    return _PARTICLES.sub("", Normalizer.basic(question).replace(" ", ""))


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def _edit_distance_at_most(a: str, b: str, k: int) -> bool:
    if abs(len(a) - len(b)) > k:
        return False
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        if min(row) > k:
            return False
    return row[-1] <= k


def near_duplicate(a: str, b: str) -> bool:
    """Two canonical questions are near-duplicates when one is a copy of the other with small edits:
    - a quarter of the longer one's characters or fewer changed (房本丢了怎么办 / 房本丢了怎么补), or
    - the shorter, of 4+ characters, is contained in the longer and is at least half of it
      (钱包被偷了身份证也没了 / 钱包被偷了身份证也没了怎么补), or
    - they share 60 % of their character bigrams (the same words reordered).
    Rewordings stay apart: 身份证丢了怎么补 / 钱包被偷了身份证也没了 share a topic, not a sentence.
    Short questions that differ in their subject (离婚证丢了怎么补办 / 身份证丢了怎么补办) pass this test:
    `overlaps` tells them apart by their answers."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if not short:
        return False
    if len(short) >= 4 and short in long and 2 * len(short) >= len(long):
        return True
    ga, gb = _bigrams(a), _bigrams(b)
    shared = len(ga & gb)
    if shared >= 0.6 * len(ga | gb):
        return True
    k = len(long) // 4
    # k edits leave at least len(bigrams) - 2k bigrams intact: skip the distance when too few are shared
    return shared >= max(len(ga), len(gb)) - 2 * k and _edit_distance_at_most(a, b, k)


def overlaps(cases: list[Case], references: list[Case] | None = None) -> list[tuple[Case, Case]]:
    """(case, reference) for every near-duplicate pair that expects the same outcome (both in scope with
    the same item, both out of scope, or both ambiguous over a common item): a copy with another
    outcome is a hard negative, not a leak. Without `references`, pairs within `cases` (each once)."""
    refs = [(r, canonical(r.question)) for r in (cases if references is None else references)]
    found = []
    for i, c in enumerate(cases):
        text = canonical(c.question)
        found += [(c, r) for r, ref_text in (refs[i + 1:] if references is None else refs)
                  if c.kind == r.kind and c.answers & r.answers and near_duplicate(text, ref_text)]
    return found
