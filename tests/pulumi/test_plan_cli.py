"""`gatekit pulumi plan` for the gcp, azure and k8s stacks: offline, every resource listed, policies applied."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi_kubernetes as k8s_sdk
import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.clouds import k8s as k8s_program
from gatekit.config import Environment
from tests.pulumi.conftest import PROJECT, ROOT


def plan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pulumi", "plan", "--project-dir", str(PROJECT), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("stack", "must_have"),
    [
        (
            "gcp",
            {
                "gcp:container/cluster:Cluster",
                "gcp:sql/databaseInstance:DatabaseInstance",
                "gcp:redis/instance:Instance",
            },
        ),
        (
            "azure",
            {
                "azure-native:containerservice:ManagedCluster",
                "azure-native:dbforpostgresql:Server",
                "azure-native:redis:Redis",
            },
        ),
        ("k8s", {"kubernetes:apps/v1:Deployment"}),
    ],
)
def test_plan_json_lists_every_resource_and_no_secret(stack: str, must_have: set[str]) -> None:
    code, out = plan("--stack", stack, "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert (payload["stack"], payload["environment"], payload["target"]) == (stack, stack, stack)
    types = {r["type"] for r in payload["resources"]}
    assert must_have | {"kubernetes:apps/v1:Deployment", "kubernetes:networking.k8s.io/v1:NetworkPolicy"} <= types
    assert payload["violations"] == []
    for leaked in ("mock-password", "mock-auth", "mock-key", "InstrumentationKey=mock"):
        assert leaked not in out, f"{leaked} printed in clear"
    if stack != "k8s":
        assert "[secret]" in out


def test_plan_text_shows_type_name_and_key_properties() -> None:
    code, out = plan("--stack", "k8s")
    assert code == 0, out
    assert "stack k8s: environment k8s (target k8s)" in out
    line = next(ln for ln in out.splitlines() if "kubernetes:apps/v1:Deployment" in ln)
    assert "terminationGracePeriodSeconds=70" in line and "@sha256:" in line
    assert "policy: 0 violation(s), 0 mandatory" in out


def test_plan_fails_and_lists_a_mandatory_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    original = k8s_program.deploy

    def deploy_with_a_leak(env: Environment) -> dict[str, Any]:
        out = original(env)
        k8s_sdk.core.v1.ConfigMap("leaky", metadata={"name": "leaky"}, data={"url": "postgresql://u:hunter2@db:5432/x"})
        return out

    monkeypatch.setattr(k8s_program, "deploy", deploy_with_a_leak)
    code, out = plan("--stack", "k8s")
    assert code == 1, out
    assert "[mandatory] no-plaintext-secrets: kubernetes:core/v1:ConfigMap leaky" in out
    assert "[mandatory] required-labels: kubernetes:core/v1:ConfigMap leaky" in out


def test_unknown_stack_and_overrides_are_reported() -> None:
    code, out = plan("--stack", "nope")
    assert code == 2 and "no stack `nope`" in out
    code, out = plan("--stack", "k8s", "--set", "gateway.drain.budget_seconds=3700")
    assert code == 2 and "drain budget" in out


def test_plan_runs_as_a_command_without_pulumi_cli(tmp_path: Path) -> None:
    exe = ROOT / ".venv" / "bin" / "gatekit"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "gatekit.cli"]
    done = subprocess.run(
        [*command, "pulumi", "plan", "--stack", "k8s", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},  # no pulumi binary, no cloud credentials
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["resources"]) >= 10
