"""Fits the confidence models and the answer / clarify thresholds on scored questions.

Two sources of questions use it: the shipped sample's dev set (`govbot calibrate --set dev`, the prior
shipped in `retrieval/calibration.json`) and the live knowledge base's own held-out phrasings
(`retrieval.self_calibration`)."""
from __future__ import annotations

from dataclasses import dataclass

from retrieval.calibration import FEATURES, Calibration, Logistic, fit_logistic
from retrieval.engine import Retriever
from retrieval.evaluate import Case

MAX_WRONG_ANSWERS = 0.01  # of in-scope questions
MAX_OOS_ANSWERED = 0.03  # of out-of-scope questions
GRID = [i / 100 for i in range(5, 100)]


@dataclass(frozen=True)
class Scored:
    """One calibration question as the uncalibrated retriever saw it."""

    kind: str  # in_scope | out_of_scope | ambiguous
    x: list[float]  # the retriever's features, in FEATURES order
    top1_right: bool  # in scope and the first item is the right one
    top3_right: bool  # an acceptable item is among the first three


def score(retriever: Retriever, case: Case) -> Scored | None:
    """None when the retriever finds nothing at all (nothing to calibrate)."""
    r = retriever.search(case.question)
    if not r.features:
        return None
    ranked = [m.code for m in r.matches]
    good = {case.code} if case.code else set(case.ambiguous)
    return Scored(case.kind, [r.features.get(n, 0.0) for n in FEATURES],
                  case.kind == "in_scope" and ranked[:1] == [case.code], bool(good & set(ranked[:3])))


def fit(retriever: Retriever, cases: list[Case], prior: Calibration | None = None) -> tuple[Calibration, dict]:
    return fit_scored([s for c in cases if (s := score(retriever, c)) is not None], prior)


def fit_scored(rows: list[Scored], prior: Calibration | None = None) -> tuple[Calibration, dict]:
    """Logistic models for P(first item right) and P(right item offered), then the lowest answer threshold
    that keeps wrong answers ≤ 1 % of in-scope and answered out-of-scope ≤ 3 %, then the clarify threshold
    that offers buttons where they help more than they mislead. With a prior, the weights are pulled
    toward it (see `fit_logistic`), so a small knowledge base gets a sensible fit."""
    xs = [r.x for r in rows]
    top1 = fit_logistic(xs, [int(r.top1_right) for r in rows], prior.top1 if prior else None)
    top3 = fit_logistic(xs, [int(r.top3_right) for r in rows], prior.top3 if prior else None)
    t_answer, stats = answer_threshold(rows, top1)
    t_clarify = max(GRID, key=lambda t: _clarify_value(rows, top1, top3, t_answer, t))
    report = {"cases": len(rows), "in_scope": stats["n_in"], "out_of_scope": stats["n_oos"],
              "answer_threshold": t_answer, "clarify_threshold": t_clarify,
              "top1": round(sum(r.top1_right for r in rows if r.kind == "in_scope") / max(1, stats["n_in"]), 4),
              "answer_rate": stats["answered"], "wrong_answers": stats["wrong"], "oos_answered": stats["oos"]}
    return Calibration(top1, top3, t_answer, t_clarify), report


def answer_threshold(rows: list[Scored], top1: Logistic) -> tuple[float, dict]:
    n_in = sum(1 for r in rows if r.kind == "in_scope")
    n_oos = sum(1 for r in rows if r.kind == "out_of_scope")
    p = [top1(r.x) for r in rows]

    def stats(t: float) -> dict:
        answered = [r for r, pr in zip(rows, p) if pr >= t]
        ins = [r for r in answered if r.kind == "in_scope"]
        return {"n_in": n_in, "n_oos": n_oos, "answered": round(len(ins) / max(1, n_in), 4),
                "wrong": round(sum(1 for r in ins if not r.top1_right) / max(1, n_in), 4),
                "oos": round(sum(1 for r in answered if r.kind == "out_of_scope") / max(1, n_oos), 4)}

    ok = [t for t in GRID if (s := stats(t))["wrong"] <= MAX_WRONG_ANSWERS and s["oos"] <= MAX_OOS_ANSWERED]
    t_answer = min(ok) if ok else GRID[-1]
    return t_answer, stats(t_answer)


def _clarify_value(rows: list[Scored], top1: Logistic, top3: Logistic, t_answer: float, t: float) -> float:
    gain = 0.0
    for r in rows:
        if top1(r.x) >= t_answer or top3(r.x) < t:
            continue
        gain += 1.0 if r.top3_right else (-0.5 if r.kind == "out_of_scope" else -0.25)
    return gain
