"""Egress rules for the agent gateways: the destinations of `egress_endpoints(env)` as Kubernetes NetworkPolicy egress
rules and as security-group egress rules, so a target allows exactly its MCP servers and agents and nothing else.

Neither NetworkPolicy nor security groups match DNS names, so each destination is pinned as tightly as its host
allows: an IP address to that address; a cluster service name (`svc.ns.svc…`) to its namespace (NetworkPolicy);
another internal name to the VPC/VNet CIDR (security groups) or to its port (NetworkPolicy); a public name (never in
isolated networks, see config checks) to its port on any address."""

from __future__ import annotations

from typing import Any

from gatekit.config import Environment
from gatekit.config.agents import Egress, egress_endpoints, is_internal_host


def _namespace_of_service(host: str) -> str | None:
    labels = host.lower().split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        return labels[1]
    return None


def network_policy_egress(env: Environment) -> list[dict[str, Any]]:
    """`spec.egress` entries for the gateway pods' NetworkPolicy (one per destination)."""
    rules: list[dict[str, Any]] = []
    for e in egress_endpoints(env):
        rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": e.port}]}
        namespace = _namespace_of_service(e.host)
        if e.ip_network:
            rule["to"] = [{"ipBlock": {"cidr": e.ip_network}}]
        elif namespace:
            rule["to"] = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}]
        rules.append(rule)
    return rules


def _sg_cidr(env: Environment, e: Egress) -> str:
    if e.ip_network:
        return e.ip_network
    return env.network.cidr if is_internal_host(e.host) else "0.0.0.0/0"


def security_group_egress(env: Environment) -> list[dict[str, Any]]:
    """Egress rules for the gateway's security group: CIDR, TCP port and a description naming the server/agent."""
    return [
        {
            "cidr": _sg_cidr(env, e),
            "protocol": "tcp",
            "port": e.port,
            "description": f"gatekit {e.kind} {e.name} ({e.host}:{e.port})",
        }
        for e in egress_endpoints(env)
    ]
