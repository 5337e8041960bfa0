"""Calibrated confidence: logistic regressions over the fused ranking's scores, margins and agreement.

`p_top1`: the best item is the right one (and the question is in scope).
`p_top3`: the right item is among the ones we would offer. Fit on the live knowledge base
(`retrieval.self_calibration`); the one shipped in `calibration.json`, fit on the sample's dev set, is the prior.
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
        """Written whole then renamed: another process reading it never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({
            "features": FEATURES, "top1": vars(self.top1), "top3": vars(self.top3),
            "answer_threshold": self.answer_threshold, "clarify_threshold": self.clarify_threshold,
            "fit_report": report}, ensure_ascii=False, indent=2) + "\n")
        partial.replace(path)


PRIOR_STRENGTH = 10.0  # L2 penalty on the standardised weights (sklearn's C = 0.1), centred on the prior


def fit_logistic(xs: list[list[float]], ys: list[int], prior: Logistic | None = None) -> Logistic:
    """Standardise the features (margins are ~0.01, scores ~0.9), fit, fold the scaling into the weights.

    The L2 penalty pulls the standardised weights toward the prior's (toward zero without one): with a
    few dozen questions the prior's shape survives and mostly the bias moves; with hundreds the data
    decide. The bias is not penalised."""
    import numpy as np
    from scipy.optimize import minimize

    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    centre = np.asarray(prior.weights, dtype=float) * std if prior else np.zeros(x.shape[1])

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        beta, bias = params[:-1], params[-1]
        logits = z @ beta + bias
        p = 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))
        nll = float(np.sum(np.logaddexp(0.0, logits) - y * logits))
        grad_beta = z.T @ (p - y) + PRIOR_STRENGTH * (beta - centre)
        return nll + 0.5 * PRIOR_STRENGTH * float(np.sum((beta - centre) ** 2)), np.append(grad_beta, np.sum(p - y))

    start = np.append(centre, 0.0)
    params = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 5000}).x
    w = params[:-1] / std
    return Logistic([float(v) for v in w], float(params[-1] - (w * mean).sum()))
