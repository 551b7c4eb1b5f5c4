"""Hyper-parameters of a transferred router are chosen without the benchmark being scored (gatekit.routing.transfer)."""

from __future__ import annotations

import numpy as np
import pytest

from gatekit.routing import transfer


def _source(rng: np.random.Generator, direction: np.ndarray, n: int = 400) -> transfer.Source:
    emb = rng.normal(size=(n, len(direction)))
    groups = rng.integers(0, 4, size=n).astype(str)
    emb += groups.astype(int)[:, None] * 0.5  # group offsets the centring must remove
    hard = emb @ direction + 0.3 * rng.normal(size=n)
    helped = hard > np.quantile(hard, 0.7)
    weak = np.where(helped, 0.0, 1.0)
    strong = np.where(helped | (rng.random(n) < 0.8), 1.0, 0.0)
    strong[np.nonzero(~helped)[0][:3]] = 1.0
    return transfer.Source(emb, np.abs(emb[:, 0]), strong, weak, groups)


@pytest.fixture(scope="module")
def sources() -> dict[str, transfer.Source]:
    rng = np.random.default_rng(0)
    direction = rng.normal(size=8)
    return {name: _source(rng, direction) for name in ("a", "b", "c")}


CONFIGS = transfer.grid(lams=(1.0, 100.0), alphas=(0.0, 0.5))


def test_a_shared_difficulty_direction_transfers(sources):
    sel = transfer.nested_select(sources, "c", CONFIGS)
    assert sel.apgr > 0.75  # random is 0.5
    assert sel.config.alpha == 0.0  # length is noise here: the inner folds learned that without seeing `c`


def test_the_choice_does_not_depend_on_the_held_out_outcomes(sources):
    honest = transfer.nested_select(sources, "c", CONFIGS)
    flipped = dict(sources)
    c = sources["c"]
    order = np.random.default_rng(1).permutation(len(c.strong))  # outcomes shuffled across the held-out prompts
    flipped["c"] = transfer.Source(c.emb, c.length, c.strong[order], c.weak[order], c.groups)
    other = transfer.nested_select(flipped, "c", CONFIGS)
    assert other.config == honest.config and other.inner_apgr == honest.inner_apgr
    assert other.apgr != honest.apgr  # the held-out score did change: only the choice ignored it


def test_needs_two_training_benchmarks(sources):
    with pytest.raises(ValueError, match="two training benchmarks"):
        transfer.nested_select({k: sources[k] for k in ("a", "b")}, "a", CONFIGS)
    with pytest.raises(ValueError, match="unknown label"):
        sources["a"].label("nope")
