"""Calibrated confidence: logistic regressions over the fused ranking's scores, margins and agreement.

`p_top1`: the best item is the right one (and the question is in scope).
`p_top3`: the right item is among the ones we would offer. Fit on the dev set by `govbot calibrate`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

FEATURES = ("dense1", "dense_margin", "sparse1", "sparse_margin", "fused1", "fused_margin", "agree", "fused3_gap",
            "coverage", "named", "named_margin")


@dataclass
class Logistic:
    weights: list[float]
    bias: float

    def __call__(self, x: list[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@dataclass
class Calibration:
    top1: Logistic
    top3: Logistic
    answer_threshold: float
    clarify_threshold: float

    @classmethod
    def load(cls, path: Path, answer_threshold: float, clarify_threshold: float) -> "Calibration | None":
        if not path.exists():
            return None
        d = json.loads(path.read_text())
        return cls(Logistic(**d["top1"]), Logistic(**d["top3"]), d.get("answer_threshold", answer_threshold),
                   d.get("clarify_threshold", clarify_threshold))

    def save(self, path: Path, report: dict) -> None:
        path.write_text(json.dumps({
            "features": FEATURES, "top1": vars(self.top1), "top3": vars(self.top3),
            "answer_threshold": self.answer_threshold, "clarify_threshold": self.clarify_threshold,
            "fit_report": report}, ensure_ascii=False, indent=2) + "\n")


def fit_logistic(xs: list[list[float]], ys: list[int]) -> Logistic:
    """Standardise the features (margins are ~0.01, scores ~0.9), fit, fold the scaling into the weights."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(xs, dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=0.1, max_iter=5000).fit((x - mean) / std, ys)
    w = model.coef_[0] / std
    return Logistic([float(v) for v in w], float(model.intercept_[0] - (w * mean).sum()))
