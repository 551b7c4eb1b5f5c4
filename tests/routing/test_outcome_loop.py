"""feedback -> train -> shadow -> promote, end to end (feedback through the endpoint's handler, numpy training,
shadow scoring on benchmarks + held-out feedback, promotion only without regression)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from gatekit.routing import bench, fit
from gatekit.routing.artifact import parse
from gatekit.routing.encoder import load_encoder
from gatekit.routing.features import WindowFeaturizer
from gatekit.routing.feedback import FeedbackStore, handle, held_out, read_pairs
from gatekit.routing.loop import feedback_bench, shadow_then_promote, train_candidate
from gatekit.routing.outcome_train import train_mlp_artifact
from gatekit.routing.outcomes import load_all
from gatekit.routing.source import DirectorySource
from gatekit.routing.spec import EncoderSettings

TIERS = ("economy", "premium")
HARD = ["Prove that the {} algorithm is correct and derive its worst-case complexity with a full argument.",
        "Design a fault-tolerant distributed {} with exactly-once semantics; prove no update is lost."]  # fmt: skip
EASY = ["What is the capital of {}?", "Say hello to {} in a friendly way."]
THINGS = ["Dijkstra", "Kruskal", "Prim", "Bellman-Ford", "Floyd", "Tarjan", "Kosaraju", "Karger", "Edmonds", "Dinic",
          "Hopcroft", "Ukkonen", "Aho-Corasick", "Boyer-Moore", "Rabin-Karp", "Paxos", "Raft", "Chord", "Kademlia",
          "Bloom"]  # fmt: skip


def _receive(payload: object):
    sent = [json.dumps(payload).encode()]

    async def receive():
        return {"type": "http.request", "body": sent.pop() if sent else b"", "more_body": False}

    return receive


@pytest.fixture(scope="module")
def featurizer() -> WindowFeaturizer:
    return WindowFeaturizer(load_encoder(EncoderSettings()))


@pytest.fixture(scope="module")
def benches(featurizer) -> dict[str, bench.Bench]:
    return {n: bench.featurize(bench.sample(rows, 300), featurizer) for n, rows in load_all().items()}


def _post_feedback(store: FeedbackStore) -> None:
    records = []
    for i, thing in enumerate(THINGS):
        for template, premium_helps in [(t, True) for t in HARD] + [(t, False) for t in EASY]:
            rid = f"req-{i}-{template[:8]}"
            msgs = [{"role": "user", "content": template.format(thing)}]
            records.append({"id": rid, "tier": "premium", "quality": 1.0, "messages": msgs, "source": "judge"})
            records.append({"id": rid, "tier": "economy", "quality": 0.0 if premium_helps else 1.0, "messages": msgs,
                            "source": "exploration"})  # fmt: skip
    records.append({"id": "lonely", "tier": "economy", "quality": 1.0, "prompt": "only one side was scored"})
    status, body = asyncio.run(handle(_receive(records), list(TIERS), store))
    assert status == 200 and body["recorded"] == len(records)
    status, body = asyncio.run(
        handle(_receive({"id": "x", "tier": "gold", "quality": 1, "prompt": "p"}), list(TIERS), store)
    )
    assert status == 400 and "tier" in body["error"]["message"]


def _bad_serving(benches, featurizer, out: Path) -> None:
    """A serving artifact that learned the opposite of the outcomes (what a broken retrain would ship)."""
    parts = list(benches.values())
    data = fit.TrainSet(np.vstack([b.legacy for b in parts]), np.concatenate([b.weak for b in parts]),
                        np.concatenate([b.strong for b in parts]),
                        np.concatenate([[str(i)] * len(b.strong) for i, b in enumerate(parts)]))  # fmt: skip
    train_mlp_artifact(data, TIERS, featurizer, out)


def test_feedback_train_shadow_promote(tmp_path, benches, featurizer):
    store = FeedbackStore(tmp_path / "route-outcomes.jsonl")
    _post_feedback(store)
    with store.path.open() as fh:
        pairs = read_pairs(fh, *TIERS)
    assert len(pairs.ids) == len(THINGS) * 4 and pairs.skipped == {"one tier only": 1}
    assert 0 < sum(held_out(r) for r in pairs.ids) < len(pairs.ids)

    serving = tmp_path / "serving"
    _bad_serving(benches, featurizer, serving)
    before = parse(DirectorySource(serving).fetch()).version

    candidate = tmp_path / "candidate"
    manifest = train_candidate(benches, feedback_bench(pairs, featurizer, heldout=False), TIERS, featurizer, candidate)
    assert "feedback" in manifest["training_sources"]

    checks = {**benches, "held-out feedback": feedback_bench(pairs, featurizer, heldout=True)}
    report = shadow_then_promote(candidate, serving, checks)
    assert report.promoted and not report.regressions, report.lines()
    assert report.candidate["held-out feedback"] > report.serving["held-out feedback"]
    assert parse(DirectorySource(serving).fetch()).version == manifest["version"] != before

    # the reverse: a worse candidate is shadow-scored and refused; the serving artifact stays
    worse = tmp_path / "worse"
    _bad_serving(benches, featurizer, worse)
    refused = shadow_then_promote(worse, serving, checks)
    assert not refused.promoted and refused.regressions
    assert parse(DirectorySource(serving).fetch()).version == manifest["version"]


def test_train_outcomes_and_promote_cli(tmp_path):
    from click.testing import CliRunner

    from gatekit.cli import cli

    feedback = tmp_path / "route-outcomes.jsonl"
    _post_feedback(FeedbackStore(feedback))
    runner = CliRunner()
    trained = runner.invoke(cli, ["route", "train-outcomes", "--out", str(tmp_path / "cand"), "--sample", "150",
                                  "--feedback", str(feedback)])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "80 outcome pairs; skipped: 1 one tier only" in trained.output
    assert "profiles: balanced 40%, eco 20%, precision 70%" in trained.output
    serving = tmp_path / "serving"
    import shutil

    shutil.copytree(tmp_path / "cand", serving)
    shadow = runner.invoke(cli, ["route", "promote", "--candidate", str(tmp_path / "cand"), "--serving", str(serving),
                                 "--sample", "150", "--feedback", str(feedback), "--dry-run"])  # fmt: skip
    assert shadow.exit_code == 0, shadow.output  # identical artifacts: nothing regresses
    assert "held-out feedback" in shadow.output and "mt_bench" in shadow.output
    assert "no regression (dry run: not promoted)" in shadow.output
