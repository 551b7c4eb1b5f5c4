"""Policies that judge resources together (one resource cannot tell): served by the CrossGuard pack as stack
validation policies and applied by `gatekit pulumi plan`.

- `gke-cloud-armor` (security, issue 12): GKE's external load balancer (an Ingress of class `gce`) admits every
  address unless a Cloud Armor policy guards its backend service. Each Service such an Ingress routes to must name a
  BackendConfig (`cloud.google.com/backend-config`) whose `securityPolicy` is a Cloud Armor policy of the same plan
  whose default rule denies; the allowed networks are that policy's other rules (gatekit.clouds.gcp_armor).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gatekit.clouds.policy_base import get, items_of, mapping
from gatekit.render.k8s_ingress import BACKEND_CONFIG

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
SERVICE = "kubernetes:core/v1:Service"
BACKEND_CONFIG_TYPE = "kubernetes:cloud.google.com/v1:BackendConfig"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
DEFAULT_RULE = 2147483647


@dataclass(frozen=True)
class StackResource:
    type: str
    name: str
    props: dict[str, Any]


Finding = tuple[str, str]  # (the resource's name, the violation)
StackValidator = Callable[[Sequence[StackResource]], list[Finding]]


@dataclass(frozen=True)
class StackPolicy:
    name: str
    description: str
    validate: StackValidator
    mandatory: bool = True


def _key(props: dict[str, Any]) -> tuple[str, str]:
    return str(get(props, "metadata.namespace") or "default"), str(get(props, "metadata.name"))


def _external_gke(props: dict[str, Any]) -> bool:
    annotations = mapping(get(props, "metadata.annotations"))
    return (get(props, "spec.ingressClassName") or annotations.get("kubernetes.io/ingress.class")) == "gce"


def _backend_services(props: dict[str, Any]) -> Iterator[str]:
    default = get(props, "spec.defaultBackend.service.name")
    if default:
        yield str(default)
    for rule in items_of(get(props, "spec.rules")):
        for path in items_of(get(rule, "http.paths")):
            name = get(path, "backend.service.name")
            if name:
                yield str(name)


def _backend_configs(service: dict[str, Any]) -> list[str]:
    raw = mapping(get(service, "metadata.annotations")).get(BACKEND_CONFIG)
    if not isinstance(raw, str):
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(value, dict):
        return []
    chosen = mapping(value)
    names = [chosen.get("default"), *mapping(chosen.get("ports")).values()]
    return [str(n) for n in names if n]


def _denies_by_default(policy: dict[str, Any]) -> bool:
    for rule in items_of(get(policy, "rules")):
        if get(rule, "priority") == DEFAULT_RULE:
            return str(get(rule, "action")).startswith("deny")
    return False  # Cloud Armor's implicit default rule allows


def _armor_finding(service: str, props: dict[str, Any] | None, configs: dict[Any, Any], policies: Any) -> str | None:
    if props is None:
        return f"routes to Service `{service}`, which this stack does not create: its Cloud Armor cannot be checked"
    names = _backend_configs(props)
    if not names:
        return (
            f"Service `{service}` names no BackendConfig ({BACKEND_CONFIG}): GKE's external load balancer admits "
            "every address; attach a Cloud Armor policy (network.allowed_ingress_cidrs)"
        )
    for name in names:
        config = configs.get((_key(props)[0], name))
        policy_name = get(config, "spec.securityPolicy.name") if config else None
        if not policy_name:
            return f"BackendConfig `{name}` of Service `{service}` attaches no Cloud Armor policy (securityPolicy)"
        policy = policies.get(policy_name)
        if policy is None:
            return f"Cloud Armor policy `{policy_name}` is not created by this stack"
        if not _denies_by_default(policy):
            return f"Cloud Armor policy `{policy_name}` does not deny by default (rule {DEFAULT_RULE}: deny(403))"
    return None


def _gke_cloud_armor(resources: Sequence[StackResource]) -> list[Finding]:
    services = {_key(r.props): r.props for r in resources if r.type == SERVICE}
    configs = {_key(r.props): r.props for r in resources if r.type == BACKEND_CONFIG_TYPE}
    policies = {get(r.props, "name"): r.props for r in resources if r.type == SECURITY_POLICY}
    out: list[Finding] = []
    for ingress in resources:
        if ingress.type != INGRESS or not _external_gke(ingress.props):
            continue
        namespace = _key(ingress.props)[0]
        for service in sorted(set(_backend_services(ingress.props))):
            found = _armor_finding(service, services.get((namespace, service)), configs, policies)
            if found:
                out.append((ingress.name, f"external GKE Ingress: {found}"))
    return out


STACK_POLICIES: tuple[StackPolicy, ...] = (
    StackPolicy(
        "gke-cloud-armor",
        "GKE's external load balancer admits only the allowed networks (Cloud Armor, default deny).",
        _gke_cloud_armor,
    ),
)
