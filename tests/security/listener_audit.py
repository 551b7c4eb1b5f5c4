"""The listener audit (security, issue 12): every listener a deployment opens is TLS. Reads what the targets produce
(CloudFormation templates, Kubernetes manifests, Pulumi plans) and names each plaintext listener; an empty list passes.

- ALB/NLB listeners: HTTPS or TLS; an HTTP listener only when everything it does is a redirect to HTTPS (no rule of it
  forwards). Classic load balancers: HTTPS/SSL listeners only.
- Databases (ECS task definitions, Kubernetes workloads, stored URLs): the pack's `database-tls-verified` (every
  client verifies the server: verify-full).
- Kubernetes (manifests, the EKS manifests inside a template too): the pack's `tls-listeners` and
  `no-public-plaintext` validators (no LoadBalancer/NodePort Service on a plaintext port, internal ones included; every
  Ingress host under TLS; no HTTP forwarding rule on GKE)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gatekit.clouds.policy import POLICIES, Context

Manifest = dict[str, Any]
LISTENER_POLICIES = ("tls-listeners", "no-public-plaintext", "database-tls-verified")
_VALIDATORS = [p.validate for p in POLICIES if p.name in LISTENER_POLICIES]
_CTX = Context(secrets_marked=True)
(_DATABASE_TLS,) = [p.validate for p in POLICIES if p.name == "database-tls-verified"]


def k8s_type(manifest: Manifest) -> str:
    api = manifest.get("apiVersion", "")
    group = f"core/{api}" if "/" not in api else api
    return f"kubernetes:{group}:{manifest.get('kind')}"


def audit_resources(resources: Iterable[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """(name, Pulumi type, inputs) of each resource -> the plaintext listeners among them."""
    return [f"{name}: {m}" for name, typ, props in resources for v in _VALIDATORS for m in v(typ, props, _CTX)]


def audit_manifests(manifests: Iterable[Manifest]) -> list[str]:
    return audit_resources(
        (f"{m.get('kind')}/{(m.get('metadata') or {}).get('name')}", k8s_type(m), m) for m in manifests
    )


def cfn_text(value: Any) -> str:
    """A CloudFormation string (Fn::Join of literals and tokens) with every token as a placeholder literal."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(cfn_text(p) for p in parts)
    return "TOKEN"


def _redirects_to_https(actions: Any) -> bool:
    return bool(actions) and all(
        a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS" for a in actions
    )


def audit_template(stack: str, template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources") or {}
    out: list[str] = []
    rules_of: dict[str, list[Any]] = {}
    for res in resources.values():
        if res["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule":
            ref = (res["Properties"].get("ListenerArn") or {}).get("Ref")
            rules_of.setdefault(ref, []).append(res["Properties"].get("Actions"))
    for logical, res in resources.items():
        props, typ = res.get("Properties") or {}, res["Type"]
        where = f"{stack}/{logical}"
        if typ == "AWS::ElasticLoadBalancingV2::Listener":
            protocol = props.get("Protocol")
            if protocol in ("TCP", "UDP", "TCP_UDP"):
                out.append(f"{where}: {protocol} listener on port {props.get('Port')}")
            elif protocol == "HTTP":
                forwards = not _redirects_to_https(props.get("DefaultActions")) or not all(
                    _redirects_to_https(a) for a in rules_of.get(logical, [])
                )
                if forwards:
                    out.append(f"{where}: HTTP listener on port {props.get('Port')} serves instead of redirecting")
        elif typ == "AWS::ElasticLoadBalancing::LoadBalancer":
            for listener in props.get("Listeners") or []:
                if listener.get("Protocol") not in ("HTTPS", "SSL"):
                    out.append(f"{where}: classic {listener.get('Protocol')} listener")
        elif typ == "AWS::ECS::TaskDefinition":
            out.extend(f"{where}: {m}" for m in _DATABASE_TLS(typ, props, _CTX))
        elif typ == "Custom::AWSCDK-EKS-KubernetesResource":
            manifests = json.loads(cfn_text(props.get("Manifest", "[]")))
            out.extend(f"{where}: {m}" for m in audit_manifests(manifests))
    return out
