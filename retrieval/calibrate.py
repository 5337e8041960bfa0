"""Fits the confidence models and the answer / clarify thresholds on the dev set (`govbot calibrate`)."""
from __future__ import annotations

from retrieval.calibration import FEATURES, Calibration, fit_logistic
from retrieval.engine import Retriever
from retrieval.evaluate import Case

MAX_WRONG_ANSWERS = 0.01  # of in-scope questions, on the dev set
MAX_OOS_ANSWERED = 0.03  # of out-of-scope questions


def fit(retriever: Retriever, cases: list[Case]) -> tuple[Calibration, dict]:
    rows = []
    for c in cases:
        r = retriever.search(c.question)
        ranked = [m.code for m in r.matches]
        good = {c.code} if c.code else set(c.ambiguous)
        y1 = int(c.kind == "in_scope" and ranked[:1] == [c.code])
        y3 = int(bool(good & set(ranked[:3])))
        rows.append((c, [r.features.get(n, 0.0) for n in FEATURES] if r.features else None, ranked, y1, y3))
    usable = [row for row in rows if row[1] is not None]
    top1 = fit_logistic([x for _, x, _, _, _ in usable], [y1 for *_, y1, _ in usable])
    top3 = fit_logistic([x for _, x, _, _, _ in usable], [y3 for *_, y3 in usable])
    n_in = sum(1 for c, *_ in rows if c.kind == "in_scope")
    n_oos = sum(1 for c, *_ in rows if c.kind == "out_of_scope")

    def answer_stats(t: float) -> tuple[float, float, float]:
        answered = [(c, ranked) for c, x, ranked, _, _ in usable if top1(x) >= t]
        right = sum(1 for c, ranked in answered if c.kind == "in_scope" and ranked[0] == c.code)
        wrong_in = sum(1 for c, ranked in answered if c.kind == "in_scope" and ranked[0] != c.code)
        oos = sum(1 for c, _ in answered if c.kind == "out_of_scope")
        return right / n_in, wrong_in / n_in, oos / max(1, n_oos)

    grid = [i / 100 for i in range(5, 100)]
    ok = [t for t in grid if answer_stats(t)[1] <= MAX_WRONG_ANSWERS and answer_stats(t)[2] <= MAX_OOS_ANSWERED]
    t_answer = min(ok) if ok else 0.95

    def clarify_value(t: float) -> float:
        gain = 0.0
        for c, x, ranked, y1, y3 in usable:
            if top1(x) >= t_answer or top3(x) < t:
                continue
            gain += 1.0 if y3 else (-0.5 if c.kind == "out_of_scope" else -0.25)
        return gain

    t_clarify = max(grid, key=clarify_value)
    right, wrong, oos = answer_stats(t_answer)
    report = {"dev_cases": len(rows), "answer_threshold": t_answer, "clarify_threshold": t_clarify,
              "dev_correct_answers": round(right, 4), "dev_wrong_answers": round(wrong, 4),
              "dev_oos_answered": round(oos, 4)}
    return Calibration(top1, top3, t_answer, t_clarify), report
