"""Fits the confidence models and the answer / clarify thresholds on scored questions.

Two sources of questions use it: the shipped sample's dev set (`govbot calibrate --set dev`, the prior
shipped in `retrieval/calibration.json`) and the live knowledge base's own held-out phrasings
(`retrieval.self_calibration`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.calibration import FEATURES, Calibration, Logistic, fit_logistic
from retrieval.engine import Retriever
from retrieval.evaluate import Case

MAX_WRONG_ANSWERS = 0.01  # of in-scope questions; at least one, so a few dozen questions can be fit at all
MAX_OOS_ANSWERED = 0.03  # of out-of-scope questions
# A near miss (`retrieval.self_calibration`: a removed item's own phrasings) is the worst out-of-scope case:
# a service the knowledge base lacks, asked in the words of its neighbours; answered, it is a wrong answer.
# If one service question in 20 concerns a service the knowledge base lacks, answering 20 % of them adds
# 1 % wrong answers per service question, as many as MAX_WRONG_ANSWERS allows among in-scope ones.
MAX_NEAR_MISSES_ANSWERED = 0.20
GRID = [i / 100 for i in range(5, 100)]


@dataclass(frozen=True)
class Scored:
    """One calibration question as the uncalibrated retriever saw it."""

    kind: str  # in_scope | out_of_scope | ambiguous | near_miss
    x: list[float]  # the retriever's features, in FEATURES order
    top1_right: bool  # in scope and the first item is the right one
    top3_right: bool  # an acceptable item is among the first three


def score(retriever: Retriever, case: Case, vectors: dict[str, np.ndarray] | None = None) -> Scored | None:
    """None when the retriever finds nothing at all (nothing to calibrate). `vectors`: see
    `Retriever.query_vectors`."""
    r = retriever.search(case.question, vectors=vectors)
    if not r.features:
        return None
    ranked = [m.code for m in r.matches]
    good = {case.code} if case.code else set(case.ambiguous)
    return Scored(case.kind, [r.features.get(n, 0.0) for n in FEATURES],
                  case.kind == "in_scope" and ranked[:1] == [case.code], bool(good & set(ranked[:3])))


def fit(retriever: Retriever, cases: list[Case], prior: Calibration | None = None) -> tuple[Calibration, dict]:
    vectors = retriever.query_vectors(c.question for c in cases)
    return fit_scored([s for c in cases if (s := score(retriever, c, vectors)) is not None], prior)


def fit_scored(rows: list[Scored], prior: Calibration | None = None) -> tuple[Calibration, dict]:
    """Logistic models for P(first item right) and P(right item offered), then the lowest answer threshold
    within the caps (`answer_threshold`), then the clarify threshold that offers buttons where they help
    more than they mislead. With a prior, the weights are pulled toward it (see `fit_logistic`), so a
    small knowledge base gets a sensible fit."""
    xs = [r.x for r in rows]
    top1 = fit_logistic(xs, [int(r.top1_right) for r in rows], prior.top1 if prior else None)
    top3 = fit_logistic(xs, [int(r.top3_right) for r in rows], prior.top3 if prior else None)
    t_answer, stats = answer_threshold(rows, top1)
    t_clarify = max(GRID, key=lambda t: _clarify_value(rows, top1, top3, t_answer, t))
    n_in = stats.pop("n_in")
    report = {"cases": len(rows), "in_scope": n_in, "out_of_scope": stats.pop("n_oos"),
              "near_misses": stats.pop("n_near"), "answer_threshold": t_answer, "clarify_threshold": t_clarify,
              "top1": round(sum(r.top1_right for r in rows if r.kind == "in_scope") / max(1, n_in), 4), **stats}
    return Calibration(top1, top3, t_answer, t_clarify), report


def answer_threshold(rows: list[Scored], top1: Logistic) -> tuple[float, dict]:
    """The lowest threshold within the caps on wrong answers, answered out-of-scope questions and answered
    near misses."""
    n = {kind: sum(1 for r in rows if r.kind == kind) for kind in ("in_scope", "out_of_scope", "near_miss")}
    p = [top1(r.x) for r in rows]
    max_wrong = max(1.0, MAX_WRONG_ANSWERS * n["in_scope"])

    def counts(t: float) -> dict[str, int]:
        answered = [r for r, pr in zip(rows, p) if pr >= t]
        return {"in_scope": sum(1 for r in answered if r.kind == "in_scope"),
                "wrong": sum(1 for r in answered if r.kind == "in_scope" and not r.top1_right),
                "out_of_scope": sum(1 for r in answered if r.kind == "out_of_scope"),
                "near_miss": sum(1 for r in answered if r.kind == "near_miss")}

    def within_caps(c: dict[str, int]) -> bool:
        return (c["wrong"] <= max_wrong and c["out_of_scope"] <= MAX_OOS_ANSWERED * n["out_of_scope"]
                and c["near_miss"] <= MAX_NEAR_MISSES_ANSWERED * n["near_miss"])

    t_answer = next((t for t in GRID if within_caps(counts(t))), GRID[-1])
    c = counts(t_answer)
    share = lambda hits, kind: round(hits / max(1, n[kind]), 4)  # noqa: E731
    return t_answer, {"n_in": n["in_scope"], "n_oos": n["out_of_scope"], "n_near": n["near_miss"],
                      "answer_rate": share(c["in_scope"], "in_scope"), "wrong_answers": share(c["wrong"], "in_scope"),
                      "oos_answered": share(c["out_of_scope"], "out_of_scope"),
                      "near_misses_answered": share(c["near_miss"], "near_miss")}


def _clarify_value(rows: list[Scored], top1: Logistic, top3: Logistic, t_answer: float, t: float) -> float:
    gain = 0.0
    for r in rows:
        if top1(r.x) >= t_answer or top3(r.x) < t:
            continue
        gain += 1.0 if r.top3_right else (-0.25 if r.kind == "in_scope" else -0.5)
    return gain
