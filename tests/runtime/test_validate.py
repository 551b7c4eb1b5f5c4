"""`gatekit validate` passes against `gatekit up` and fails, naming the gates, against a gateway with auth off
(the vanilla LiteLLM proxy with the same models and no master key: what a misconfigured deployment looks like)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.runtime.conftest import RuntimeGateways

pytestmark = pytest.mark.slow

AUTH_GATES = {
    "auth-inference-no-key",
    "auth-inference-wrong-key",
    "auth-management-no-key",
    "auth-management-wrong-key",
}


def validate(url: str, key: str, *extra: str) -> subprocess.CompletedProcess[str]:
    # --no-sweep: the unauthenticated sweep has its own tests (tests/security/test_exposure.py)
    cmd = [sys.executable, "-m", "gatekit.cli", "validate", "--url", url, "--key", key, "--no-sweep", *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_validate_passes_against_gatekit_up(runtime_gateways: RuntimeGateways) -> None:
    plain = runtime_gateways.plain
    result = validate(plain.url, plain.key, "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["ok"] is True
    statuses = {g["gate"]: g["status"] for g in report["gates"]}
    # Agent gateways are not configured locally (tests/agents has them); everything else is: nothing else skipped.
    assert statuses.pop("mcp-servers") == "SKIP" and statuses.pop("agents") == "SKIP"
    assert set(statuses.values()) == {"PASS"}, statuses
    assert {"chat-stream", "embeddings", "config-version", "trace", "metrics"} | AUTH_GATES <= set(statuses)


def test_validate_fails_naming_the_gates_against_a_gateway_with_auth_disabled(
    runtime_gateways: RuntimeGateways,
) -> None:
    result = validate(runtime_gateways.open_litellm.url, "sk-any-key-at-all")
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:-1]}
    assert {gate for gate, status in rows.items() if status == "FAIL"} >= AUTH_GATES
    assert rows["chat"] == "PASS" and rows["models"] == "PASS"  # it is a working gateway, just an open one
    assert "FAILED: " in result.stdout and "auth-inference-no-key" in result.stdout.splitlines()[-1]
