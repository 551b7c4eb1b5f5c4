"""The listener audit (tests/security/listener_audit.py) on every synthesized AWS template: the shipped environments
(dev, staging, prod, moat) and the variants (EKS, estates) open no plaintext listener — HTTP only as a redirect to
HTTPS; on EKS the gateway's NLB listens with TLS on 443 only (security, issue 12)."""

from __future__ import annotations

import json

from tests.cdk.conftest import Synthesized
from tests.security.listener_audit import audit_template, cfn_text


def test_no_plaintext_listener_in_any_synthesized_template(every_synth: Synthesized) -> None:
    found = [f for stack, template in every_synth.templates.items() for f in audit_template(stack, template)]
    assert found == []
    resources = [r for _, _, r in every_synth.all_resources()]
    listeners = [r["Properties"]["Protocol"] for r in resources if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"]
    manifests = [r for r in resources if r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"]
    assert "HTTPS" in listeners or manifests  # the audit saw a front door (ALB, or the EKS manifests)


def test_eks_gateway_nlb_terminates_tls_with_the_domain_certificate(synthesized: dict[str, Synthesized]) -> None:
    eks = synthesized["eks"]
    (gateway,) = [
        r
        for r in eks.resources("gateway", "Custom::AWSCDK-EKS-KubernetesResource").values()
        if '"kind":"Deployment"' in cfn_text(r["Properties"]["Manifest"])
    ]
    manifests = json.loads(cfn_text(gateway["Properties"]["Manifest"]))
    (service,) = [m for m in manifests if m["kind"] == "Service"]
    annotations = service["metadata"]["annotations"]
    assert [p["port"] for p in service["spec"]["ports"]] == [443]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] == "443"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"].startswith(
        "ELBSecurityPolicy-TLS13"
    )
    cert = gateway["Properties"]["Manifest"]
    assert "Certificate" in json.dumps(cert)  # the ssl-cert annotation is the stack's ACM certificate (a token)
    assert eks.resources("gateway", "AWS::CertificateManager::Certificate")
