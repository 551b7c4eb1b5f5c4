"""Client addresses on GKE (security, issue 12): the external load balancer admits only
`network.allowed_ingress_cidrs`, through a Cloud Armor policy the gcp program creates and a BackendConfig that
attaches it to the gateway's backend service; the policy pack refuses an external GKE Ingress without one; GKE's
internal load balancer, which cannot carry one, refuses restricted CIDRs at validation."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pulumi_policy import PolicyResource, StackValidationArgs

from gatekit.clouds.plan import Plan, run_plan
from gatekit.clouds.policy import StackResource, check_stack
from gatekit.clouds.policy_pack import crossguard_policies
from gatekit.config import ConfigError
from gatekit.render.k8s_ingress import BACKEND_CONFIG
from tests.pulumi.conftest import PROJECT, environment, one, resources

PUBLIC_GKE = (
    "network.mode=public",
    "gateway.exposure.ingress.class_name=gce",
    "gateway.exposure.ingress.managed_certificate=true",
)
CLIENTS = [f"198.51.{i}.0/24" for i in range(12)]  # more than one rule holds (10 ranges a rule)
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
BACKEND = "kubernetes:cloud.google.com/v1:BackendConfig"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


@pytest.fixture(scope="module")
def public_plan() -> Plan:
    return run_plan(
        "gcp",
        PROJECT,
        (
            *PUBLIC_GKE,
            f"network.allowed_ingress_cidrs=[{', '.join(CLIENTS)}]",
            "gateway.exposure.client_requests_per_5min=600",
        ),
    )


def test_cloud_armor_admits_the_allowed_networks_throttled_and_denies_the_rest(public_plan: Plan) -> None:
    armor = one(public_plan, ARMOR)
    assert armor["type"] == "CLOUD_ARMOR" and armor["name"] == "gk-gcp-gateway"
    rules = sorted(armor["rules"], key=lambda r: r["priority"])
    allow, default = rules[:-1], rules[-1]
    assert [r["priority"] for r in allow] == [1000, 1001]
    assert [ip for r in allow for ip in r["match"]["config"]["srcIpRanges"]] == CLIENTS
    assert [len(r["match"]["config"]["srcIpRanges"]) for r in allow] == [10, 2]
    for rule in allow:
        assert rule["action"] == "throttle" and rule["match"]["versionedExpr"] == "SRC_IPS_V1"
        limits = rule["rateLimitOptions"]
        assert (limits["conformAction"], limits["exceedAction"], limits["enforceOnKey"]) == ("allow", "deny(429)", "IP")
        assert limits["rateLimitThreshold"] == {"count": 600, "intervalSec": 300}
    assert default["priority"] == 2147483647 and default["action"] == "deny(403)"
    assert default["match"]["config"]["srcIpRanges"] == ["*"]


def test_backend_config_attaches_the_policy_to_the_gateway_service(public_plan: Plan) -> None:
    backend = one(public_plan, BACKEND)
    assert backend["spec"] == {"securityPolicy": {"name": one(public_plan, ARMOR)["name"]}}
    service = _find(_stack(public_plan), SERVICE).props
    assert json.loads(service["metadata"]["annotations"][BACKEND_CONFIG]) == {"default": backend["metadata"]["name"]}
    assert backend["metadata"]["namespace"] == service["metadata"]["namespace"]
    ingress = one(public_plan, INGRESS)
    routed = {p["backend"]["service"]["name"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert routed == {service["metadata"]["name"]}
    # The gateway (BackendConfig included) is applied once the policy exists, and the plan passes the pack.
    gateway = next(r for r in public_plan.resources if r.type == "gatekit:kubernetes:Gateway")
    armor = next(r for r in public_plan.resources if r.type == ARMOR)
    assert armor.name in gateway.depends_on
    assert not [v for v in public_plan.violations if v.mandatory], public_plan.violations


def test_the_whole_internet_is_an_explicit_throttled_rule() -> None:
    from gatekit.clouds.gcp_armor import armor_rules

    env = environment("gcp", *PUBLIC_GKE, "network.allowed_ingress_cidrs=[0.0.0.0/0]")
    rules = armor_rules(env)
    assert [(r.priority, r.action) for r in rules] == [(1000, "throttle"), (2147483647, "deny(403)")]  # type: ignore[attr-defined]
    assert rules[0].match.config.src_ip_ranges == ["*"]  # type: ignore[attr-defined,union-attr]


def test_internal_gke_renders_no_armor_and_refuses_restricted_addresses(plan_for: Any) -> None:
    plan = plan_for("gcp")  # gce-internal
    assert resources(plan, ARMOR) == [] and resources(plan, BACKEND) == []
    with pytest.raises(ConfigError, match=r"allowed_ingress_cidrs: class `gce-internal` cannot restrict client"):
        environment("gcp", "network.allowed_ingress_cidrs=[10.20.0.0/16]")
    with pytest.raises(ConfigError, match=r"class `gce` cannot restrict client addresses \(only target gcp"):
        environment(
            "k8s",
            "gateway.exposure.ingress.class_name=gce",
            "gateway.exposure.ingress.controller_namespace=null",
            "network.allowed_ingress_cidrs=[10.20.0.0/16]",
        )
    # Admitting everyone is no restriction: a public GKE load balancer on any cluster may say so explicitly.
    public_k8s = ("network.mode=public", "gateway.exposure.ingress.class_name=gce")
    environment(
        "k8s",
        *public_k8s,
        "gateway.exposure.ingress.controller_namespace=null",
        "network.allowed_ingress_cidrs=[0.0.0.0/0]",
    )


def _stack(plan: Plan) -> list[StackResource]:
    return [StackResource(r.type, r.name, copy.deepcopy(r.inputs)) for r in plan.resources]


def _find(stack: list[StackResource], typ: str) -> StackResource:
    gateway = "gk-gcp-gateway"
    (found,) = [r for r in stack if r.type == typ and (typ != SERVICE or r.props["metadata"]["name"] == gateway)]
    return found


def _messages(stack: list[StackResource]) -> list[str]:
    found = check_stack(stack)
    assert all(v.policy == "gke-cloud-armor" and v.resource_type == INGRESS and v.mandatory for v in found)
    return [v.message for v in found]


def test_the_pack_refuses_an_external_gke_ingress_without_cloud_armor(public_plan: Plan) -> None:
    assert _messages(_stack(public_plan)) == []

    no_annotation = _stack(public_plan)
    del _find(no_annotation, SERVICE).props["metadata"]["annotations"][BACKEND_CONFIG]
    assert _messages(no_annotation) == [
        "external GKE Ingress: Service `gk-gcp-gateway` names no BackendConfig (cloud.google.com/backend-config): "
        "GKE's external load balancer admits every address; attach a Cloud Armor policy "
        "(network.allowed_ingress_cidrs)"
    ]
    no_policy_ref = _stack(public_plan)
    _find(no_policy_ref, BACKEND).props["spec"] = {}
    assert "attaches no Cloud Armor policy" in _messages(no_policy_ref)[0]
    no_armor = [r for r in _stack(public_plan) if r.type != ARMOR]
    assert "`gk-gcp-gateway` is not created by this stack" in _messages(no_armor)[0]
    allows = _stack(public_plan)
    for rule in _find(allows, ARMOR).props["rules"]:
        if rule["priority"] == 2147483647:
            rule["action"] = "allow"
    assert "does not deny by default" in _messages(allows)[0]

    # The CrossGuard pack reports the same finding against the Ingress's URN.
    pack = next(p for p in crossguard_policies() if p.name == "gke-cloud-armor")
    urn = {r.name: f"urn:pulumi:gcp::gatekit::{r.type}::{r.name}" for r in no_annotation}
    args = StackValidationArgs(
        [PolicyResource(r.type, r.props, urn[r.name], r.name, None, None, None, [], {}) for r in no_annotation],  # type: ignore[arg-type]
        {},
    )
    reported: list[tuple[str, str | None]] = []
    pack.validate(args, lambda message, urn=None: reported.append((message, urn)))  # type: ignore[misc,operator]
    ingress = _find(no_annotation, INGRESS)
    assert [u for _, u in reported] == [urn[ingress.name]] and "names no BackendConfig" in reported[0][0]


def test_internal_ingress_is_not_judged_by_the_armor_policy(plan_for: Any) -> None:
    plan: Plan = plan_for("gcp")
    stack = [StackResource(r.type, r.name, r.inputs) for r in plan.resources]
    assert [r for r in stack if r.type == INGRESS and r.props["spec"]["ingressClassName"] == "gce-internal"]
    assert check_stack(stack) == []
