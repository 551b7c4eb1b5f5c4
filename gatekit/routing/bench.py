"""`gatekit route bench`: every in-process strategy on RouteLLM's benchmarks, leave-one-benchmark-out.

For each benchmark B in (MMLU, GSM8K, MT-Bench): train on the other two, score on B (APGR, CPT(50%), CPT(80%)),
beside random, the oracle and a prompt-length baseline. Nothing is ever trained or tuned on the benchmark it is
scored on. `random` is the mean APGR of 200 random orderings (its expectation is exactly 0.5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gatekit.routing import fit
from gatekit.routing.bench_metrics import Curve, curve, oracle_scores, random_scores
from gatekit.routing.context import window
from gatekit.routing.features import WindowFeaturizer
from gatekit.routing.outcomes import BENCHMARKS, Outcome, arrays

RANDOM_SEEDS = 200
LENGTH_COLUMN = 384  # surface feature 0: length of the (cut) last user turn
# RouteLLM, "RouteLLM: Learning to Route LLMs with Preference Data" (Ong et al., arXiv:2406.18665), best published
# router per benchmark, GPT-4-1106 vs Mixtral-8x7B. Only the figures we could verify from a public summary are here.
PUBLISHED = {
    "mt_bench": ("matrix factorization, Arena + GPT-4-judge augmented data", 0.802),
}
LABELS = {"mmlu": "MMLU", "gsm8k": "GSM8K", "mt_bench": "MT-Bench"}


@dataclass
class Bench:
    x: np.ndarray  # window-v1 features (the `outcome` router's)
    legacy: np.ndarray  # embedding + length (the knn / svm / mlp artifacts')
    strong: np.ndarray
    weak: np.ndarray


@dataclass(frozen=True)
class Result:
    benchmark: str
    strategy: str
    apgr: float
    cpt50: float
    cpt80: float
    curve: Curve
    note: str = ""


def featurize(rows: list[Outcome], featurizer: WindowFeaturizer, cache_dir: Path | None = None) -> Bench:
    strong, weak = arrays(rows)
    key = hashlib.sha256(featurizer.fingerprint.encode())
    for r in rows:
        key.update(r.id.encode() + b"\0" + str(r.messages).encode())
    cache = cache_dir / f"features-{key.hexdigest()[:20]}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        with np.load(cache) as data:
            return Bench(data["x"], data["legacy"], strong, weak)
    x, legacy = featurizer.many([window(r.messages) for r in rows])
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, legacy=legacy)
    return Bench(x, legacy, strong, weak)


def _train(benches: dict[str, Bench], names: list[str], legacy: bool) -> fit.TrainSet:
    return fit.TrainSet(
        np.vstack([benches[n].legacy if legacy else benches[n].x for n in names]),
        np.concatenate([benches[n].strong for n in names]),
        np.concatenate([benches[n].weak for n in names]),
        np.concatenate([[n] * len(benches[n].strong) for n in names]),
    )


Strategy = Callable[[dict[str, Bench], list[str], Bench], np.ndarray]


def _knn(benches: dict[str, Bench], names: list[str], test: Bench) -> np.ndarray:
    t = _train(benches, names, True)
    return fit.knn_score(t.x, (t.strong - t.weak > 0).astype(float), test.legacy)


def _svm(benches: dict[str, Bench], names: list[str], test: Bench) -> np.ndarray:
    return fit.fit_linear_svm(_train(benches, names, True)).raw(test.legacy)


def _mlp(benches: dict[str, Bench], names: list[str], test: Bench) -> np.ndarray:
    w, b = fit.fit_mlp(_train(benches, names, True))
    return fit.mlp_score(w, b, test.legacy)


STRATEGIES: dict[str, tuple[Strategy, str]] = {
    "oracle": (lambda _b, _n, t: oracle_scores(t.strong, t.weak), "upper bound: knows each outcome"),
    "length": (lambda _b, _n, t: t.x[:, LENGTH_COLUMN], "baseline: length of the last user turn"),
    "elo": (lambda _b, _n, t: np.zeros(len(t.strong)), "query-independent ratings: one score for every prompt"),
    "knn": (_knn, "k=25 cosine neighbours, label premium-helped"),
    "svm": (_svm, "linear SVM (hinge, L2), label premium-helped"),
    "mlp": (_mlp, "default: 1 hidden layer (32 ReLU), label premium-helped"),
}


def sample(rows: list[Outcome], limit: int | None, seed: int = 0) -> list[Outcome]:
    """A fixed random subset (for quick runs); the full set when `limit` is None or not smaller."""
    if limit is None or len(rows) <= limit:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=limit, replace=False))
    return [rows[i] for i in keep]


def run(benches: dict[str, Bench], strategies: list[str] | None = None) -> list[Result]:
    out: list[Result] = []
    for name in [b for b in BENCHMARKS if b in benches]:
        train = [b for b in benches if b != name]
        test = benches[name]
        rand = [curve(random_scores(len(test.strong), seed), test.strong, test.weak) for seed in range(RANDOM_SEEDS)]
        mean = float(np.mean([c.apgr for c in rand]))
        cpt50, cpt80 = float(np.mean([c.cpt(0.5) for c in rand])), float(np.mean([c.cpt(0.8) for c in rand]))
        out.append(Result(name, "random", mean, cpt50, cpt80, rand[0], f"mean of {RANDOM_SEEDS} random orders"))
        chosen = list(dict.fromkeys(["oracle", "length", *(strategies or STRATEGIES)]))  # baselines always shown
        for strategy in chosen:
            fn, note = STRATEGIES[strategy]
            c = curve(fn(benches, train, test), test.strong, test.weak)
            out.append(Result(name, strategy, c.apgr, c.cpt(0.5), c.cpt(0.8), c, note))
    return out


def markdown(results: list[Result]) -> str:
    lines = ["| benchmark | strategy | APGR | CPT(50%) | CPT(80%) | what |", "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {LABELS[r.benchmark]} | {r.strategy} | {r.apgr:.3f} | {r.cpt50:.1%} | {r.cpt80:.1%} | {r.note} |"
        )
    lines += ["", "| benchmark | default (mlp) APGR, ours | length baseline | RouteLLM best published APGR |",
              "|---|---|---|---|"]  # fmt: skip
    for name in dict.fromkeys(r.benchmark for r in results):
        got = {r.strategy: r.apgr for r in results if r.benchmark == name}
        pub = PUBLISHED.get(name)
        published = f"{pub[1]:.3f} ({pub[0]})" if pub else "not quoted (figure not verified from a public source here)"
        lines.append(f"| {LABELS[name]} | {got.get('mlp', float('nan')):.3f} | {got.get('length', float('nan')):.3f} "
                     f"| {published} |")  # fmt: skip
    return "\n".join(lines)
