"""Train the default router on outcomes (benchmarks + the deployment's own feedback) and write a safe artifact.

The router is the in-process `mlp` strategy (1 hidden ReLU layer, softmax over [cheapest tier, premium tier]) fitted in
numpy on the serving features (gatekit.routing.features, legacy layout), label "premium helped". Each profile is
calibrated to a stated premium share of the training mix (fit.PROFILE_SHARES), stored in the artifact as
params.calibration, which the engine uses instead of the config thresholds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gatekit.routing import fit
from gatekit.routing.artifact import build_files, write_artifact
from gatekit.routing.features import WindowFeaturizer
from gatekit.routing.train import encoder_manifest

TRAINER = "gatekit numpy mlp on outcomes (gatekit.routing.outcome_train)"


def weighted_calibration(scores: np.ndarray, weights: np.ndarray) -> dict[str, dict[str, float]]:
    """Per profile: the threshold above which the stated (weighted) share of the training prompts goes premium."""
    order = np.argsort(-scores)
    cum = np.cumsum(weights[order]) / weights.sum()
    out: dict[str, dict[str, float]] = {}
    for name, share in fit.PROFILE_SHARES.items():
        i = min(int(np.searchsorted(cum, share)), len(order) - 1)
        out[name] = {"premium_share": share, "threshold": float(scores[order[i]])}
    return out


def train_mlp_artifact(data: fit.TrainSet, tiers: tuple[str, str], featurizer: WindowFeaturizer, out_dir: Path,
                       extra: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """`data.x` must hold legacy features (featurizer.legacy). Returns the manifest."""
    if len(np.unique(data.strong - data.weak > 0)) < 2:
        raise ValueError("outcome training needs prompts where premium helped and prompts where it did not")
    weights, biases = fit.fit_mlp(data, seed=seed)
    scores = fit.mlp_score(weights, biases, data.x)
    calibration = weighted_calibration(scores, data.weights())
    arrays = {"layer0.weight": weights[0], "layer0.bias": biases[0], "layer1.weight": weights[1],
              "layer1.bias": biases[1]}  # fmt: skip
    groups = {str(g): int(n) for g, n in zip(*np.unique(data.groups, return_counts=True), strict=True)}
    blobs = build_files(
        "mlp", list(tiers), {"layers": 2, "activation": "relu", "calibration": calibration},
        {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}, encoder_manifest(featurizer.encoder), TRAINER,
        {"training_rows": len(data.groups), "training_sources": groups, "label": "premium helped (strong > weak)",
         **(extra or {})},
    )  # fmt: skip
    write_artifact(out_dir, blobs)
    return json.loads(blobs["manifest.json"])
