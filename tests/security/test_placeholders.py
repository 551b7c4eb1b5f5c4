"""The shipped environments' example values (placeholder CA ARN, hosted zone, domain, digests, project) never reach a
deployment: `cdk deploy` through app.py, `pulumi up` and `gatekit config validate --deploy` refuse them, naming the
field and what to set; real values pass (security, issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.clouds import program
from gatekit.config import default_config_dir, load_environment
from gatekit.config.placeholders import placeholder_findings
from tests.pulumi.conftest import use_mocks

ROOT = Path(__file__).resolve().parents[2]
REAL_CA = "arn:aws:acm-pca:us-east-1:210987654321:certificate-authority/7f1c2a9e-3b4d-4e5f-8a6b-1c2d3e4f5a6b"
REAL_DIGEST = "@sha256:" + "4b" * 32


def fields(name: str, *overrides: str) -> set[str]:
    return {path for path, _ in placeholder_findings(load_environment(name, default_config_dir(), overrides))}


def test_every_shipped_example_is_named() -> None:
    bundle = "database.ca_bundle"  # the example RDS CA (gatekit.config.database_ca)
    assert fields("prod") == {"domain.name", "domain.hosted_zone_id", bundle}
    for name in ("dev", "staging", "moat"):
        assert fields(name) == {"domain.private_ca_arn", bundle}, name
    assert fields("moat-vm") == {"domain.private_ca_arn"}  # no database: its bundle is never used
    host = "gateway.exposure.ingress.host"  # the TLS front door's example name (issue 12)
    assert fields("gcp") == {"gcp.project", "compute.image", "observability.collector_image", host}
    assert fields("local") == set()


def test_real_values_pass(rds_bundle: Path) -> None:
    bundle = f"database.ca_bundle={rds_bundle}"
    assert fields("staging", f"domain.private_ca_arn={REAL_CA}", bundle) == set()
    assert (
        fields("prod", "domain.name=llm.corp-gateway.net", "domain.hosted_zone_id=Z04839211ABCDEFGHIJK", bundle)
        == set()
    )
    assert (
        fields(
            "k8s",
            f"compute.image=registry.corp.net/gatekit/gateway{REAL_DIGEST}",
            f"observability.collector_image=registry.corp.net/otel/collector{REAL_DIGEST}",
            "gateway.exposure.ingress.host=llm.corp-gateway.net",
        )
        == set()
    )


def test_config_validate_deploy_refuses_examples(rds_bundle: Path) -> None:
    refused = CliRunner().invoke(cli, ["config", "validate", "--env", "staging", "--deploy"])
    assert refused.exit_code == 1
    assert "domain.private_ca_arn: the example ACM Private CA" in refused.output
    assert "database.ca_bundle: the example CA no RDS server chains to" in refused.output
    sets = ["--set", f"domain.private_ca_arn={REAL_CA}", "--set", f"database.ca_bundle={rds_bundle}"]
    ok = CliRunner().invoke(cli, ["config", "validate", "--env", "staging", "--deploy", *sets])
    assert ok.exit_code == 0, ok.output


def test_cdk_app_refuses_examples_before_building() -> None:
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"env": "prod"}), "CDK_OUTDIR": "/nonexistent-never-written"}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "domain.hosted_zone_id: `Z0EXAMPLE0GATEKIT` is the example hosted zone" in done.stderr
    assert "allow_placeholders=true" in done.stderr


def test_pulumi_up_refuses_examples() -> None:
    use_mocks("k8s")  # preview=False: what `pulumi up` runs
    with pytest.raises(pulumi.RunError, match=r"compute\.image: the example digest pulls nothing"):
        program.run()
