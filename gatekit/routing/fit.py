"""Numpy trainers on outcome data (no torch, no sklearn) for the knn, svm (linear) and mlp strategies: what
`route bench` scores and what `route train-outcomes` writes as a safe artifact.

Label, from outcome pairs (strong = premium answer's quality, weak = cheap answer's quality, both 0..1): premium
helped (strong > weak) — the event whose ranking APGR rewards. Every benchmark (or feedback source) gets the
same total weight, so 14k MMLU rows do not drown 80 MT-Bench rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gatekit.routing.bench_metrics import threshold_for_share

# A profile means a premium share on the calibration data (the training mix), not a raw score.
PROFILE_SHARES = {"eco": 0.2, "balanced": 0.4, "precision": 0.7}


@dataclass
class TrainSet:
    x: np.ndarray
    strong: np.ndarray
    weak: np.ndarray
    groups: np.ndarray  # source of each row (benchmark / "feedback"); each group weighs the same in total

    def weights(self) -> np.ndarray:
        names, inverse, counts = np.unique(self.groups, return_inverse=True, return_counts=True)
        return (len(self.groups) / len(names)) / counts[inverse]

    def subset(self, mask: np.ndarray) -> TrainSet:
        return TrainSet(self.x[mask], self.strong[mask], self.weak[mask], self.groups[mask])


@dataclass
class LinearModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    params: dict[str, Any] = field(default_factory=dict)

    def raw(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def score(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(x)))


def fit_linear_svm(data: TrainSet, c: float = 1.0, epochs: int = 60, seed: int = 0) -> LinearModel:
    """Linear SVM (hinge loss + L2) by averaged sub-gradient descent; label: premium helps (gain > 0)."""
    rng = np.random.default_rng(seed)
    w_row = data.weights()
    y = np.where(data.strong - data.weak > 0, 1.0, -1.0)
    mean = data.x.mean(axis=0)
    scale = data.x.std(axis=0) + 1e-6
    z: np.ndarray = (data.x - mean) / scale
    pos = w_row * np.where(y > 0, 0.5 / max(float((y > 0).mean()), 1e-9), 0.5 / max(float((y < 0).mean()), 1e-9))
    coef = np.zeros(z.shape[1])
    avg_coef = np.zeros(z.shape[1])
    b, avg_b, t = 0.0, 0.0, 0
    lam = 1.0 / (c * len(z))
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(len(z)), max(len(z) // 256, 1)):
            t += 1
            eta = 1.0 / (lam * (t + 100))
            margin = y[batch] * (z[batch] @ coef + b)
            active = margin < 1
            g = lam * coef - (pos[batch][active] * y[batch][active]) @ z[batch][active] / len(batch)
            gb = -float((pos[batch][active] * y[batch][active]).sum()) / len(batch)
            coef, b = coef - eta * g, b - eta * gb * 0.1
            avg_coef, avg_b = avg_coef + coef, avg_b + b
    return LinearModel(mean, scale, avg_coef / t, avg_b / t, {"C": c})


def _cap_groups(data: TrainSet, per_group: int, rng: np.random.Generator) -> TrainSet:
    keep = np.zeros(len(data.groups), dtype=bool)
    for g in np.unique(data.groups):
        idx = np.nonzero(data.groups == g)[0]
        keep[rng.choice(idx, size=min(per_group, len(idx)), replace=False)] = True
    return data.subset(keep)


def fit_mlp(data: TrainSet, hidden: int = 32, epochs: int = 120, lr: float = 0.01, seed: int = 0,
            l2: float = 1e-3, per_group: int = 3000) -> tuple[list[np.ndarray], list[np.ndarray]]:  # fmt: skip
    """One hidden ReLU layer, softmax over [economy, premium], full-batch Adam (float32); label: premium helped.
    At most `per_group` rows of each source are used (the groups are weighted equally anyway)."""
    rng = np.random.default_rng(seed)
    data = _cap_groups(data, per_group, rng)
    y = (data.strong - data.weak > 0).astype(int)
    w_row = data.weights()
    w_row = w_row * np.where(y == 1, 0.5 / max(float(y.mean()), 1e-9), 0.5 / max(1 - float(y.mean()), 1e-9))
    w_row = (w_row / w_row.sum()).astype(np.float32)
    x = np.ascontiguousarray(data.x, dtype=np.float32)
    xt = np.ascontiguousarray(x.T)
    f32 = np.float32
    params = [rng.normal(0, 1 / np.sqrt(x.shape[1]), (hidden, x.shape[1])).astype(f32), np.zeros(hidden, f32),
              rng.normal(0, 1 / np.sqrt(hidden), (2, hidden)).astype(f32), np.zeros(2, f32)]  # fmt: skip
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(2, dtype=f32)[y]
    for step in range(1, epochs + 1):
        w1, b1, w2, b2 = params
        h = np.maximum(x @ w1.T + b1, 0.0)
        logits = h @ w2.T + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        d_logits = (p - onehot) * w_row[:, None]
        g_w2, g_b2 = d_logits.T @ h + l2 * w2, d_logits.sum(axis=0)
        d_h = (d_logits @ w2) * (h > 0)
        g_w1, g_b1 = (xt @ d_h).T + l2 * w1, d_h.sum(axis=0)
        for i, g in enumerate((g_w1, g_b1, g_w2, g_b2)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            params[i] = (params[i] - lr * (m[i] / (1 - 0.9**step)) / (np.sqrt(v[i] / (1 - 0.999**step)) + 1e-8)).astype(
                f32
            )
    return [params[0], params[2]], [params[1], params[3]]


def mlp_score(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    h = np.maximum(x @ weights[0].T + biases[0], 0.0)
    logits = h @ weights[1].T + biases[1]
    return 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))


def knn_score(train_x: np.ndarray, labels: np.ndarray, x: np.ndarray, k: int = 25) -> np.ndarray:
    """Share of the k most similar (cosine) training prompts where premium helped."""
    a = train_x / np.maximum(np.linalg.norm(train_x, axis=1, keepdims=True), 1e-12)
    b = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    k = min(k, len(a))
    out = np.empty(len(b))
    for start in range(0, len(b), 2048):
        sims = b[start : start + 2048] @ a.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out[start : start + 2048] = labels[top].mean(axis=1)
    return out


def calibrate(scores: np.ndarray, shares: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Per profile: the score threshold that sends the stated premium share of the calibration prompts to premium."""
    shares = shares or PROFILE_SHARES
    return {name: {"premium_share": share, "threshold": threshold_for_share(scores, share)}
            for name, share in shares.items()}  # fmt: skip
