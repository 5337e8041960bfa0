"""Evaluation sets, metrics, and the calibration fit.

An entry is in scope (`code`), out of scope (`code: null`) or ambiguous (`ambiguous: [codes]`).
Metrics over in-scope entries: top-1, recall@3, MRR, answer rate, wrong-answer rate (answered with
the wrong item). Over out-of-scope entries: rejection rate (not answered). Ambiguous entries count as
handled when the bot clarifies with an acceptable item or answers with one.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

EVAL_DIR = Path(__file__).parent / "eval_data"


@dataclass(frozen=True)
class Case:
    question: str
    code: str | None  # None: out of scope (unless ambiguous)
    ambiguous: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "ambiguous" if self.ambiguous else ("in_scope" if self.code else "out_of_scope")


@dataclass
class Prediction:
    decision: str  # answer | clarify | handoff
    ranked: list[str]  # item codes, best first
    offered: list[str]


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
