"""`gatekit route decide | eval | export-traces | push` and the held-out targets of the shipped default router."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from tests.routing.conftest import DATASET, copy_default


def _run(args, input=None):
    result = CliRunner().invoke(cli, args, input=input, catch_exceptions=False)
    return result


def test_decide_writes_one_json_line_per_prompt():
    complex_prompt = "Design a globally distributed rate limiter with per-tenant quotas and explain failover."
    requests = [{"id": "a", "prompt": "thanks, that worked"}, {"id": "b", "prompt": complex_prompt}]
    stdin = "\n".join(json.dumps(r) for r in requests)
    result = _run(
        [
            "route",
            "decide",
            "--json",
            "--set",
            "gateway.routing.ml.enabled=true",
            "--set",
            "gateway.routing.ml.strategy=knn",
        ],
        stdin,
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert set(rows[0]) == {"id", "model", "tier", "strategy", "score", "latency_ms"}
    assert [r["tier"] for r in rows] == ["economy", "premium"]
    assert all(r["strategy"] == "knn" and r["latency_ms"] >= 0 for r in rows)


def test_decide_with_a_strategy_the_gateway_does_not_serve_exits_non_zero():
    result = CliRunner().invoke(cli, ["route", "decide", "--strategy", "graphrouter"], input='{"prompt": "x"}\n')
    assert result.exit_code != 0
    assert "`graphrouter` is an LLMRouter strategy that does not run in the gateway" in result.output
    assert "supported: knn, svm, mlp, mf, elo, smallest_llm, largest_llm" in result.output


# Smoke set only (not evidence): the llmrouter-trained artifacts on the synthetic data. The shipped mlp is trained on
# model outcomes instead and is measured by `route bench` (tests/routing/test_outcome_bench.py).
@pytest.mark.parametrize("strategy", ["knn", "svm", "mf"])
def test_shipped_router_meets_the_held_out_targets(strategy):
    result = _run(["route", "eval", "--data", str(DATASET), "--strategy", strategy, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    router, economy, premium, random_ = report["rows"]
    assert report["prompts"] >= 250
    assert router["simple_to_cheapest"] >= 0.90
    assert router["complex_to_strongest"] >= 0.90
    assert router["saving_per_call"] >= 0.60 and router["quality_retention"] >= 0.95
    assert router["apgr"] > random_["apgr"] + 0.2
    assert premium["quality_retention"] == 1.0 and premium["saving_per_call"] == 0.0
    assert economy["quality_retention"] < 0.8
    assert 0.4 < random_["apgr"] < 0.6


def test_eval_prints_a_table_with_the_baselines():
    result = _run(["route", "eval", "--data", str(DATASET)])
    assert result.exit_code == 0, result.output
    for name in ("mlp (balanced)", "always-economy", "always-premium", "random ("):  # mlp: the shipped default
        assert name in result.output


def test_export_traces_turns_request_logs_into_llmrouter_rows(tmp_path):
    logs = tmp_path / "requests.jsonl"
    payloads = [
        {"id": "1", "model_group": "economy", "status": "success",
         "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "capital of Chile?"}]},
        {"id": "2", "model_group": "demo-premium", "status": "failure",
         "messages": [{"role": "user", "content": [{"type": "text", "text": "prove P != NP"}]}]},
        {"id": "3", "model_group": "economy", "status": "success",
         "metadata": {"requester_metadata": {"gatekit_feedback": 0.2}},
         "messages": [{"role": "user", "content": "design a ledger"}]},
        {"id": "4", "model_group": "demo-embedding", "messages": [{"role": "user", "content": "x"}]},
        {"id": "5", "model_group": "economy", "messages": [{"role": "assistant", "content": "no user turn"}]},
    ]  # fmt: skip
    logs.write_text("\n".join(json.dumps(p) for p in payloads) + "\nnot json\n")
    out = tmp_path / "rows.jsonl"
    result = _run(["route", "export-traces", "--input", str(logs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["query"], r["model_name"], r["performance"]) for r in rows] == [
        ("capital of Chile?", "economy", 1.0),
        ("prove P != NP", "premium", 0.0),
        ("design a ledger", "economy", 0.2),
    ]
    assert "skipped 3 (1 model is not a tier or a tier's deployment, 1 no user prompt, 1 not JSON)" in result.output


def test_push_refuses_a_corrupted_artifact(tmp_path):
    art = copy_default("knn", tmp_path / "knn")
    (art / "router.json").write_text("{}")
    result = CliRunner().invoke(cli, ["route", "push", str(art), str(tmp_path / "dest")])
    assert result.exit_code != 0 and "refusing to push" in result.output
    assert not (tmp_path / "dest").exists()


def test_svm_generalises_to_hand_written_prompts():
    handwritten = DATASET.parent / "handwritten.jsonl"
    result = _run(["route", "eval", "--data", str(handwritten), "--split", "all", "--strategy", "svm", "--json"])
    assert result.exit_code == 0, result.output
    router = json.loads(result.output)["rows"][0]
    assert router["simple_to_cheapest"] >= 0.90 and router["complex_to_strongest"] >= 0.90
    assert router["quality_retention"] >= 0.95
