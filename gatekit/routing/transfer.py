"""Searching for a router that transfers across benchmarks, with hyper-parameters chosen honestly (numpy only).

`route bench` scores each benchmark with a router trained on the other two. Picking a recipe by its score on the
benchmark being scored leaks that benchmark into the choice; `nested_select` avoids it: for a held-out benchmark B it
ranks every candidate configuration by leave-one-out over the *training* benchmarks only (train on one, score on the
other, both ways), then fits the chosen one on both and scores B once.

Candidates (all linear in the serving features, so any of them could ship as an `mlp` artifact):
  * group-centred ridge regression on the static embedding: features and label centred within each group (a MMLU
    subject, a MT-Bench category, GSM8K), so the model learns what makes a prompt harder *than its neighbours* rather
    than which benchmark is harder; label "premium helped", the gain (strong - weak) or "cheap failed" (1 - weak);
  * blended with the token-length feature: score = a * length / sd + (1 - a) * ridge / sd (sd on the training rows).
bench/routing_transfer_search.py runs the whole grid; docs/routing.md quotes it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gatekit.routing.bench_metrics import curve

LABELS = ("helped", "gain", "fail")


@dataclass(frozen=True)
class Source:
    """One benchmark's rows: embedding (n x d), length feature (n), outcome pairs and a group per row."""

    emb: np.ndarray
    length: np.ndarray
    strong: np.ndarray
    weak: np.ndarray
    groups: np.ndarray

    def label(self, kind: str) -> np.ndarray:
        if kind == "helped":
            return (self.strong - self.weak > 0).astype(float)
        if kind == "gain":
            return self.strong - self.weak
        if kind == "fail":
            return 1.0 - self.weak
        raise ValueError(f"unknown label `{kind}`; one of {', '.join(LABELS)}")


@dataclass(frozen=True)
class Config:
    label: str
    lam: float
    grouped: bool
    alpha: float  # weight of the length feature in the blend (0 = ridge only, 1 = length only)


@dataclass(frozen=True)
class Linear:
    coef: np.ndarray  # on the embedding, already divided by the ridge score's training sd
    length_weight: float  # on the length feature, already divided by its training sd

    def score(self, emb: np.ndarray, length: np.ndarray) -> np.ndarray:
        return emb @ self.coef + self.length_weight * length


def _center(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=float, copy=True)
    for g in np.unique(groups):
        mask = groups == g
        x[mask] -= x[mask].mean(axis=0)
    return x


def fit(sources: Sequence[Source], cfg: Config) -> Linear:
    """Weighted ridge (each source weighs the same in total) on centred data, blended with length."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ls: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    for s in sources:
        groups = s.groups if cfg.grouped else np.zeros(len(s.strong))
        xs.append(_center(s.emb, groups))
        ys.append(_center(s.label(cfg.label)[:, None], groups)[:, 0])
        ls.append(_center(s.length[:, None], groups)[:, 0])
        ws.append(np.full(len(s.strong), 1.0 / len(s.strong)))
    x, y, ln, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ls), np.concatenate(ws)
    w = w / float(w.mean())
    xw = x * w[:, None]
    coef = np.linalg.solve(xw.T @ x + cfg.lam * np.eye(x.shape[1]), xw.T @ y)
    ridge_sd = float(np.sqrt(np.average((x @ coef) ** 2, weights=w))) or 1.0
    length_sd = float(np.sqrt(np.average(ln**2, weights=w))) or 1.0
    return Linear((1 - cfg.alpha) * coef / ridge_sd, cfg.alpha / length_sd)


def apgr(model: Linear, s: Source) -> float:
    return curve(model.score(s.emb, s.length), s.strong, s.weak).apgr


def grid(
    labels: Sequence[str] = LABELS,
    lams: Sequence[float] = (0.1, 1.0, 10.0),
    grouped: Sequence[bool] = (True, False),
    alphas: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
) -> list[Config]:
    return [Config(*c) for c in itertools.product(labels, lams, grouped, alphas)]


def _memo_fit() -> Callable[[Sequence[str], dict[str, Source], Config], Linear]:
    cache: dict[tuple[tuple[str, ...], str, float, bool, float], Linear] = {}

    def get(names: Sequence[str], sources: dict[str, Source], cfg: Config) -> Linear:
        key = (tuple(names), cfg.label, cfg.lam, cfg.grouped, cfg.alpha)
        if key not in cache:
            cache[key] = fit([sources[n] for n in names], cfg)
        return cache[key]

    return get


@dataclass(frozen=True)
class Selection:
    held_out: str
    config: Config
    inner_apgr: float  # mean APGR of the config over the inner folds (training benchmarks only)
    apgr: float  # the held-out benchmark's APGR of the config fitted on all training benchmarks


def nested_select(sources: dict[str, Source], held_out: str, configs: Sequence[Config]) -> Selection:
    """Choose a config without looking at `held_out`, then score it there once. Needs >= 2 training sources."""
    train = [n for n in sources if n != held_out]
    if len(train) < 2:
        raise ValueError("nested selection needs at least two training benchmarks")
    get = _memo_fit()

    def inner(cfg: Config) -> float:
        return float(np.mean([apgr(get([u for u in train if u != v], sources, cfg), sources[v]) for v in train]))

    scored = [(inner(c), i) for i, c in enumerate(configs)]
    best_inner, best_i = max(scored)
    cfg = configs[best_i]
    return Selection(held_out, cfg, best_inner, apgr(get(train, sources, cfg), sources[held_out]))


def leave_one_out(sources: dict[str, Source], configs: Sequence[Config]) -> dict[Config, dict[str, float]]:
    """Every config's held-out APGR on every benchmark (for reading the grid, not for choosing from it)."""
    get = _memo_fit()
    return {
        cfg: {b: apgr(get([n for n in sources if n != b], sources, cfg), sources[b]) for b in sources}
        for cfg in configs
    }
