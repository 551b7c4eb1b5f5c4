"""The listener audit over every shipped environment (security, issue 12): plaintext only for `local`.

AWS environments are audited on their synthesized templates (tests/cdk/test_listener_audit.py, which shares the
session's synths), the Pulumi programs' plans in tests/pulumi/test_tls_front_door.py; here every shipped Kubernetes
environment's manifests, the audit's own teeth, and that no shipped environment escapes it."""

from __future__ import annotations

from typing import Any

import pytest

from gatekit.config import default_config_dir, load_environment
from gatekit.config.environment import AWS_TARGETS
from gatekit.render.k8s import render_gateway_manifests
from tests.security.listener_audit import audit_manifests, audit_template

SHIPPED = sorted(p.stem for p in (default_config_dir() / "environments").glob("*.yaml"))
KUBERNETES = ("gcp", "azure", "k8s")
SOURCES = {
    "gcp": "gs://bucket/environment.json",
    "azure": "https://a.blob.core.windows.net/c/environment.json",
    "k8s": None,
}


def test_every_shipped_environment_is_audited() -> None:
    targets = {name: load_environment(name, default_config_dir()).target for name in SHIPPED}
    aws = {n for n, t in targets.items() if t in AWS_TARGETS or (t == "moat" and n == "moat")}
    assert aws == {"dev", "staging", "prod", "moat"}  # tests/cdk/test_listener_audit.py
    assert {n for n, t in targets.items() if t in KUBERNETES} == set(KUBERNETES)
    assert set(targets) - aws - set(KUBERNETES) == {"local", "moat-vm"}
    # moat-vm: one VM from the offline bundle; the gateway listens on loopback only (a local TLS proxy fronts it).
    assert load_environment("moat-vm", default_config_dir()).gateway.host == "127.0.0.1"


@pytest.mark.parametrize("name", KUBERNETES)
def test_shipped_kubernetes_environments_open_no_plaintext_listener(name: str) -> None:
    manifests = render_gateway_manifests(load_environment(name, default_config_dir()), config_source=SOURCES[name])
    assert audit_manifests(manifests) == []
    kinds = {m["kind"]: m for m in manifests}
    assert kinds["Service"]["spec"]["type"] == "ClusterIP" and "Ingress" in kinds


PLAIN_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "gw", "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}},
    "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
}


def _listener(protocol: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    props = {"Protocol": protocol, "Port": 80, "DefaultActions": actions}
    return {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": props}


REDIRECT = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}


def test_the_audit_names_each_kind_of_plaintext_listener() -> None:
    assert "plaintext on port(s) 80" in " ".join(audit_manifests([PLAIN_SERVICE]))
    bare_ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "gw"},
        "spec": {"ingressClassName": "gce", "rules": [{"host": "gw.corp.net"}]},
    }
    found = audit_manifests([bare_ingress])
    assert any("plaintext for host(s) gw.corp.net" in f for f in found)
    assert any("HTTP forwarding rule" in f for f in found)
    template = {
        "Resources": {
            "Https": _listener("HTTPS", [{"Type": "forward"}]),
            "Redirect": _listener("HTTP", [REDIRECT]),
            "Forward": _listener("HTTP", [{"Type": "forward"}]),
            "Nlb": _listener("TCP", [{"Type": "forward"}]),
            "RuleOnRedirect": {
                "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
                "Properties": {"ListenerArn": {"Ref": "Redirect"}, "Actions": [{"Type": "forward"}]},
            },
            "Eks": {
                "Type": "Custom::AWSCDK-EKS-KubernetesResource",
                "Properties": {
                    "Manifest": {
                        "Fn::Join": [
                            "",
                            [
                                '[{"apiVersion":"v1","kind":"Service","metadata":{"name":"',
                                {"Ref": "X"},
                                '"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}]',
                            ],
                        ]
                    }
                },
            },
        }
    }
    found = audit_template("s", template)
    assert {f.split(":")[0] for f in found} == {"s/Eks", "s/Forward", "s/Nlb", "s/Redirect"}, found


def test_the_audit_names_an_unverified_database_in_a_task_definition_or_eks_manifest() -> None:
    """The hidden template audit covers database TLS on the AWS targets too (ECS task definitions, EKS manifests):
    `sslmode=require` encrypts but trusts any server; the shipped templates say verify-full
    (tests/cdk/test_listener_audit.py)."""
    require = [{"Name": "DATABASE_SSLMODE", "Value": "require"}]
    template = {
        "Resources": {
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {"ContainerDefinitions": [{"Name": "gateway", "Environment": require}]},
            },
            "Verified": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "ContainerDefinitions": [
                        {"Name": "migrations", "Environment": [{"Name": "DATABASE_SSLMODE", "Value": "verify-full"}]}
                    ]
                },
            },
            "Eks": {
                "Type": "Custom::AWSCDK-EKS-KubernetesResource",
                "Properties": {
                    "Manifest": '[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"gw"},"spec":'
                    '{"template":{"spec":{"containers":[{"name":"gateway","env":[{"name":"DATABASE_SSLMODE",'
                    '"value":"require"}]}]}}}}]'
                },
            },
        }
    }
    found = audit_template("s", template)
    assert found == [
        "s/Task: container `gateway`: DATABASE_SSLMODE `require` does not verify the server (use verify-full)",
        "s/Eks: Deployment/gw: container `gateway`: DATABASE_SSLMODE `require` does not verify the server "
        "(use verify-full)",
    ]
