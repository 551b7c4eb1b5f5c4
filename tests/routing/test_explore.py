"""Exploration sampling and its failure path (the end-to-end run is in test_gateway_e2e.py)."""

from __future__ import annotations

import asyncio

from gatekit.routing.explore import explore, explores, other_tier
from gatekit.routing.feedback import FeedbackStore
from gatekit.routing.metrics import routing_metrics


def test_sampling_follows_the_share_and_needs_an_id():
    assert not explores("req", 0.0, lambda: 0.0)
    assert not explores("", 1.0, lambda: 0.0)
    assert explores("req", 0.1, lambda: 0.05) and not explores("req", 0.1, lambda: 0.15)


def test_the_other_tier_is_the_far_end():
    tiers = ["economy", "standard", "premium"]
    assert other_tier(tiers, "economy") == "premium"
    assert other_tier(tiers, "standard") == "economy"
    assert other_tier(tiers, "premium") == "economy"


class _DownRouter:
    async def acompletion(self, **_: object) -> object:
        raise ConnectionError("premium tier unreachable")


def test_a_failed_exploration_writes_nothing_and_is_counted(tmp_path):
    errors = routing_metrics().explorations.labels(result="error")
    before = errors._value.get()
    store = FeedbackStore(tmp_path / "outcomes.jsonl")
    ok = asyncio.run(explore(_DownRouter(), "req-9", [{"role": "user", "content": "hi"}], "economy", "hello",
                             "premium", store))  # fmt: skip
    assert ok is False
    assert not (tmp_path / "outcomes.jsonl").exists()
    assert errors._value.get() == before + 1
