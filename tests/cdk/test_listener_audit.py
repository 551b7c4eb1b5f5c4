"""The listener audit (tests/security/listener_audit.py) on every shipped AWS environment's synthesized templates:
dev, staging, prod and moat open no plaintext listener (HTTP only as a redirect to HTTPS) — security, issue 12."""

from __future__ import annotations

from tests.cdk.conftest import Synthesized
from tests.security.listener_audit import audit_template


def test_no_plaintext_listener_in_a_shipped_aws_environment(each_env: Synthesized) -> None:
    found = [f for stack, template in each_env.templates.items() for f in audit_template(stack, template)]
    assert found == []
    listeners = [
        r["Properties"]["Protocol"]
        for _, _, r in each_env.all_resources()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
    ]
    assert "HTTPS" in listeners  # the audit saw the front door
