"""Close the loop: train a candidate on benchmarks + feedback pairs, shadow-score it beside the serving artifact,
promote only when nothing regresses. Used by `gatekit route train-outcomes` and `gatekit route promote`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gatekit.routing import fit
from gatekit.routing.adapters import MlpAdapter
from gatekit.routing.artifact import parse
from gatekit.routing.bench import Bench
from gatekit.routing.bench_metrics import curve
from gatekit.routing.context import window_of_prompt
from gatekit.routing.features import WindowFeaturizer
from gatekit.routing.feedback import Pairs, held_out, promote
from gatekit.routing.outcome_train import train_mlp_artifact
from gatekit.routing.source import DirectorySource

TOLERANCE = 0.005  # APGR differences below this are noise, not a regression


def feedback_bench(pairs: Pairs, featurizer: WindowFeaturizer, heldout: bool) -> Bench | None:
    keep = [i for i, rid in enumerate(pairs.ids) if held_out(rid) == heldout]
    if not keep:
        return None
    x, legacy = featurizer.many([window_of_prompt(pairs.texts[i]) for i in keep])
    return Bench(x, legacy, np.array([pairs.strong[i] for i in keep]), np.array([pairs.weak[i] for i in keep]))


def train_candidate(benches: dict[str, Bench], feedback: Bench | None, tiers: tuple[str, str],
                    featurizer: WindowFeaturizer, out: Path) -> dict[str, Any]:  # fmt: skip
    parts = dict(benches)
    if feedback is not None:
        parts["feedback"] = feedback
    data = fit.TrainSet(
        np.vstack([b.legacy for b in parts.values()]),
        np.concatenate([b.strong for b in parts.values()]),
        np.concatenate([b.weak for b in parts.values()]),
        np.concatenate([[name] * len(b.strong) for name, b in parts.items()]),
    )
    return train_mlp_artifact(data, tiers, featurizer, out)


def artifact_apgr(artifact_dir: Path, bench: Bench) -> float:
    adapter = MlpAdapter(parse(DirectorySource(artifact_dir).fetch()))
    premium = len(adapter.tiers) - 1
    scores = np.array([adapter.probabilities(row)[premium] for row in bench.legacy])
    gain = bench.strong - bench.weak
    if gain.mean() <= 0:  # PGR is undefined when premium does not beat cheap on this set: rank agreement instead
        return float(np.corrcoef(scores, gain)[0, 1]) if len(gain) > 1 else 0.0
    return curve(scores, bench.strong, bench.weak).apgr


@dataclass
class ShadowReport:
    serving: dict[str, float]
    candidate: dict[str, float]
    regressions: list[str]
    promoted: bool

    def lines(self) -> list[str]:
        out = [f"{name:>18}: serving {self.serving[name]:.3f}  candidate {self.candidate[name]:.3f}"
               for name in self.candidate]  # fmt: skip
        if self.regressions:
            verdict = f"NOT promoted (regressed on {', '.join(self.regressions)})"
        else:
            verdict = "promoted" if self.promoted else "no regression (dry run: not promoted)"
        return [*out, verdict]


def shadow_then_promote(candidate: Path, serving: Path, checks: dict[str, Bench], apply: bool = True) -> ShadowReport:
    """Score both artifacts on every check set (benchmarks, held-out feedback); promote iff none regresses."""
    if not checks:
        raise ValueError("shadow check needs at least one benchmark or held-out feedback set")
    serving_scores = {name: artifact_apgr(serving, b) for name, b in checks.items()}
    candidate_scores = {name: artifact_apgr(candidate, b) for name, b in checks.items()}
    regressions = [n for n in checks if candidate_scores[n] < serving_scores[n] - TOLERANCE]
    promoted = not regressions and apply
    if promoted:
        promote(candidate, serving)
    return ShadowReport(serving_scores, candidate_scores, regressions, promoted)
