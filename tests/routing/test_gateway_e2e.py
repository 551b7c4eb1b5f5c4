"""`auto` through the running gateway (real LiteLLM proxy + demo provider): different tiers, headers prove it."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow

SIMPLE = "What is the capital of Norway?"
COMPLEX = (
    "Design a multi-region active-active payment ledger with exactly-once semantics and 99.99% availability. "
    "Cover the data model, the consistency protocol, failure modes during a regional failover, and how you would "
    "prove no money is created or lost."
)


def _chat(gw, prompt: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gw.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {gw.key}", **headers},
        json={"model": "auto", "messages": [{"role": "user", "content": prompt}]},
        timeout=60,
    )


@pytest.fixture(scope="module")
def routed_gateway(gateway_factory):
    # exploration_share=1: every routed request is also answered by the other tier (test_exploration_... reads them)
    return gateway_factory(
        overrides=[
            "gateway.routing.ml.enabled=true",
            "gateway.routing.ml.strategy=knn",
            "gateway.routing.ml.exploration_share=1.0",
        ]
    )


def test_auto_sends_simple_and_complex_prompts_to_different_tiers(routed_gateway):
    simple, complex_ = _chat(routed_gateway, SIMPLE), _chat(routed_gateway, COMPLEX)
    assert simple.status_code == 200, simple.text
    assert complex_.status_code == 200, complex_.text
    assert simple.headers["x-gatekit-route-strategy"] == "knn"
    assert simple.headers["x-gatekit-route-tier"] == "economy"
    assert complex_.headers["x-gatekit-route-tier"] == "premium"
    # the model header names the deployment LiteLLM picked inside the tier
    assert simple.headers["x-gatekit-route-model"] == "demo-economy"
    assert complex_.headers["x-gatekit-route-model"] == "demo-premium"
    assert float(simple.headers["x-gatekit-route-score"]) < 0.5 <= float(complex_.headers["x-gatekit-route-score"])


def test_profile_header_shifts_the_threshold(routed_gateway):
    # precision routes anything with score >= 0.25 to premium; an unknown profile is a client error, not a guess
    bad = _chat(routed_gateway, SIMPLE, **{"x-gatekit-route-profile": "cheapest-please"})
    assert bad.status_code == 400, bad.text
    ok = _chat(routed_gateway, SIMPLE, **{"x-gatekit-route-profile": "eco"})
    assert ok.status_code == 200 and ok.headers["x-gatekit-route-tier"] == "economy"


def test_plain_tier_calls_carry_no_route_headers(routed_gateway):
    resp = httpx.post(
        f"{routed_gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {routed_gateway.key}"},
        json={"model": "premium", "messages": [{"role": "user", "content": SIMPLE}]},
        timeout=60,
    )
    assert resp.status_code == 200
    assert "x-gatekit-route-strategy" not in resp.headers


def test_embeddings_to_auto_get_a_clear_400(routed_gateway):
    resp = httpx.post(
        f"{routed_gateway.url}/v1/embeddings",
        headers={"Authorization": f"Bearer {routed_gateway.key}"},
        json={"model": "auto", "input": "embed me"},
        timeout=60,
    )
    assert resp.status_code == 400, resp.text
    assert "chat completions only" in resp.text


def test_feedback_endpoint_records_outcomes_for_the_trainer(routed_gateway):
    from pathlib import Path

    url = f"{routed_gateway.url}/gatekit/feedback"
    body = {"id": "req-1", "tier": "economy", "quality": 0.25, "messages": [{"role": "user", "content": SIMPLE}]}
    assert httpx.post(url, json=body, timeout=30).status_code == 401  # master key only
    auth = {"Authorization": f"Bearer {routed_gateway.key}"}
    bad = httpx.post(url, headers=auth, json={**body, "quality": 3}, timeout=30)
    assert bad.status_code == 400 and "quality" in bad.text
    ok = httpx.post(url, headers=auth, json=[body, {**body, "tier": "premium", "quality": 1.0}], timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()["recorded"] == 2
    lines = Path(ok.json()["file"]).read_text().splitlines()
    assert any('"req-1"' in line and '"premium"' in line for line in lines)


def test_exploration_answers_with_the_other_tier_and_the_trainer_reads_scored_pairs(routed_gateway):
    import json
    import time
    from pathlib import Path

    from gatekit.routing.feedback import read_pairs

    resp = _chat(routed_gateway, SIMPLE)
    assert resp.status_code == 200 and resp.headers["x-gatekit-route-tier"] == "economy"
    rid = resp.headers["x-litellm-call-id"]
    outcomes = Path(routed_gateway.runtime_dir) / "route-outcomes.jsonl"
    deadline, mine = time.monotonic() + 60, []
    while time.monotonic() < deadline and len(mine) < 2:  # the exploration call runs after the response
        lines = outcomes.read_text().splitlines() if outcomes.is_file() else []
        mine = [r for r in map(json.loads, lines) if r["id"] == rid and r["source"] == "exploration"]
        time.sleep(0.2)
    assert {r["tier"] for r in mine} == {"economy", "premium"}, routed_gateway.log()[-3000:]
    assert all(r["quality"] is None and r["answer"] for r in mine)  # answers, awaiting a judge's score
    assert all(SIMPLE in r["text"] for r in mine)
    before = read_pairs(outcomes.read_text().splitlines(), "economy", "premium")
    assert rid not in before.ids and before.skipped["unscored"] >= 2
    auth = {"Authorization": f"Bearer {routed_gateway.key}"}
    scores = [{"id": rid, "tier": r["tier"], "quality": 1.0 if r["tier"] == "premium" else 0.0,
               "prompt": SIMPLE, "source": "judge"} for r in mine]  # fmt: skip
    posted = httpx.post(f"{routed_gateway.url}/gatekit/feedback", headers=auth, json=scores, timeout=30)
    assert posted.status_code == 200, posted.text
    after = read_pairs(outcomes.read_text().splitlines(), "economy", "premium")
    i = after.ids.index(rid)
    assert (after.strong[i], after.weak[i]) == (1.0, 0.0)
