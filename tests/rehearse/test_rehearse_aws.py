"""`gatekit rehearse` of every shipped AWS ECS environment: the synthesized stacks run on this machine as Fargate and
the data/config stacks would run them, and every check passes; what needs AWS itself is listed, never passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekit.rehearse.report import CHECKS
from gatekit.rehearse.session import Shared, rehearse_environment
from tests.rehearse.conftest import AWS_ECS_ENVIRONMENTS
from tests.rehearse.sweep_evidence import assert_only_health_answers

# Synthesis and LiteLLM start-up are CPU-bound: on a shared machine they exceed the suite's 300 s default.
pytestmark = pytest.mark.timeout(2400)


@pytest.mark.parametrize("name", AWS_ECS_ENVIRONMENTS)
def test_rehearse_ecs_environment(name: str, rehearsal: Shared) -> None:
    report = rehearse_environment(rehearsal, name)
    assert report.passed, report.to_json()
    data = report.as_dict()
    assert sorted(c["name"] for c in data["checks"]) == sorted(CHECKS)
    assert_only_health_answers(data)  # database on, from a non-admin address (security, issue 12)
    assert all(c["status"] == "pass" and c["evidence"] for c in data["checks"])
    # Two replicas converge on the reloaded document; the gateway ran as the image's non-root uid.
    hot = next(c for c in data["checks"] if c["name"] == "hot_reload")["evidence"]
    assert len(hot["after"]) >= 2
    assert all(p["uid"] == 65532 for p in data["processes"])
    reasons = {n["what"] for n in data["not_reproduced"]}
    assert {"IAM database authentication", "Application Load Balancer", "KMS", "model providers"} <= reasons


EKS_VARIANT = ["target=aws-eks", "deployment.prefix=gk-eks"]


def test_rehearse_eks_variant(rehearsal: Shared, tmp_path: Path) -> None:
    """staging on EKS: the gateway stack's applied manifests (migrations init container, CSI-synced Secret, config
    from the S3 document) run as the pod would; the data stack's SQL lets the runtime user migrate there."""
    report = rehearse_environment(rehearsal, "staging", EKS_VARIANT)
    assert report.passed, report.to_json()
    data = report.as_dict()
    assert sorted(c["name"] for c in data["checks"]) == sorted(CHECKS)
    assert_only_health_answers(data)  # database on, from a non-admin address (security, issue 12)
    reasons = {n["what"] for n in data["not_reproduced"]}
    assert {"EKS scheduling", "Secrets Store CSI driver", "IAM database authentication"} <= reasons
