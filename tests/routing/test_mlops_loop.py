"""The MLOps loop end to end: gateway request logs -> export-traces -> train (llmrouter-lib, in the training venv)
-> push -> the serving engine hot-reloads the new artifact and routes with it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.routing.dataset import load_labelled
from gatekit.routing.engine import RoutingEngine
from tests.conftest import REPO
from tests.routing.conftest import DATASET, copy_default, spec_with

pytestmark = pytest.mark.slow
TRAIN_PYTHON = Path(os.environ.get("GATEKIT_TRAIN_PYTHON", REPO / ".venv-train" / "bin" / "python"))


def _request_logs(spec, path: Path, n_per_tier: int) -> list:
    """What the gateway logged: simple prompts served well by economy; complex ones served by premium, and some
    that economy failed (so the export must label them premium)."""
    prompts = [p for p in load_labelled(DATASET, spec.tier_names) if p.split == "train"]
    simple = [p for p in prompts if p.tier == "economy"][:n_per_tier]
    complex_ = [p for p in prompts if p.tier == "premium"][:n_per_tier]
    payloads = [
        {"model_group": "demo-economy", "status": "success", "messages": [{"role": "user", "content": p.prompt}]}
        for p in simple
    ]
    for i, p in enumerate(complex_):
        failed_on_economy = i % 3 == 0
        payloads.append({
            "model_group": "economy" if failed_on_economy else "premium",
            "status": "failure" if failed_on_economy else "success",
            "messages": [{"role": "user", "content": p.prompt}],
        })  # fmt: skip
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    return payloads


def test_export_train_push_reload(spec, tmp_path):
    assert TRAIN_PYTHON.exists(), f"training venv missing at {TRAIN_PYTHON}: run `make setup-train` (docs/routing.md)"
    logs, rows, trained, live = (
        tmp_path / "logs.jsonl",
        tmp_path / "rows.jsonl",
        tmp_path / "trained",
        tmp_path / "live",
    )
    _request_logs(spec, logs, n_per_tier=60)

    runner = CliRunner()
    exported = runner.invoke(cli, ["route", "export-traces", "--input", str(logs), "--out", str(rows)])
    assert exported.exit_code == 0, exported.output
    assert "wrote 120 routing rows" in exported.output

    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    cmd = [str(TRAIN_PYTHON), "-m", "gatekit.cli", "route", "train", "--data", str(rows), "--strategy", "knn",
           "--out", str(trained), "--split", "all"]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "100.0% agreement with llmrouter-lib" in done.stdout
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["trainer"].startswith("llmrouter-lib ") and manifest["training_rows"] == 120

    engine = RoutingEngine(spec_with(spec, artifact_uri=str(copy_default("knn", live))))
    engine.load()
    shipped = engine.artifact_version
    pushed = runner.invoke(cli, ["route", "push", str(trained), str(live)])
    assert pushed.exit_code == 0, pushed.output
    assert engine.reload_if_changed() is True
    assert engine.artifact_version == manifest["version"] != shipped
    held_out = [p for p in load_labelled(DATASET, spec.tier_names) if p.split == "held_out"]
    correct = sum(engine.decide(p.prompt).tier == p.tier for p in held_out)
    assert correct / len(held_out) >= 0.8, correct / len(held_out)
