"""`gatekit synth` writes every stack's template without the CDK CLI, and fails cleanly on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gatekit.cli import cli
from tests.cdk.conftest import Synthesized
from tests.cdk.estate_variants import EKS_COLLECTOR


def test_synth_writes_every_template(tmp_path: Path, synthesized: dict[str, Synthesized]) -> None:
    result = CliRunner().invoke(cli, ["synth", "--env", "dev", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").glob("*.template.json"))
    assert written == sorted(f"{stack}.template.json" for stack in synthesized["dev"].templates)
    network = json.loads((tmp_path / "out" / "gk-dev-network.template.json").read_text())
    assert network == synthesized["dev"].templates["gk-dev-network"]


def test_synth_rejects_an_invalid_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "--env", "prod", "--out", str(tmp_path), "--set", "compute.cpu=3"])
    assert result.exit_code == 1
    assert "compute.cpu" in result.output


def test_synth_rejects_a_non_aws_environment(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "--env", "local", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "aws-ecs" in result.output and not list(tmp_path.glob("*.template.json"))


def test_synth_fails_loudly_for_an_eks_version_without_kubectl(tmp_path: Path) -> None:
    args = ["synth", "--env", "staging", "--out", str(tmp_path), "--set", "target=aws-eks", "--set", EKS_COLLECTOR]
    result = CliRunner().invoke(cli, [*args, "--set", 'kubernetes.version="1.34"'])
    assert result.exit_code == 1
    assert "kubectl 1.33" in result.output and not list(tmp_path.glob("*.template.json"))
