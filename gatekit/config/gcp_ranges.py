"""The address ranges of gatekit's GKE network (one source for the gcp program, the renderer and validation).

The node subnet is `network.cidr`; pods and Services take secondary ranges in the shared address space (RFC 6598),
which never collide with the VPC or on-premises ranges; the control plane's peering range is fixed. GKE's internal
Application Load Balancer runs its proxies in the region's proxy-only subnet `gcp.proxy_only_cidr`: the gcp program
creates it (purpose REGIONAL_MANAGED_PROXY) and the gateway's NetworkPolicy admits it, since those proxies, not
the clients, open the connections to the pods. Validation keeps it private, large enough, and clear of the others."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.config.environment import Environment

PODS_RANGE = "100.64.0.0/14"
SERVICES_RANGE = "100.68.0.0/20"
MASTER_RANGE = "172.16.0.32/28"
DEFAULT_PROXY_ONLY_CIDR = "100.72.0.0/23"
PROXY_ONLY_MAX_PREFIX = 26  # Google's smallest proxy-only subnet (a /23 is recommended)
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

Finding = tuple[str, str]


def proxy_only_range(env: Environment) -> str:
    """The proxy-only subnet of GKE's internal load balancer (validation makes sure `gcp` names it)."""
    if env.gcp is None:
        raise ValueError("GKE's internal load balancer needs `gcp.proxy_only_cidr` (validation requires `gcp`)")
    return env.gcp.proxy_only_cidr


def _rendered_ranges(env: Environment) -> dict[str, str]:
    return {
        "network.cidr": env.network.cidr,
        "the GKE pod range": PODS_RANGE,
        "the GKE Service range": SERVICES_RANGE,
        "the GKE control plane range": MASTER_RANGE,
    }


def gcp_range_findings(env: Environment) -> Iterator[Finding]:
    door = env.gateway.exposure.ingress
    if env.gcp is None:
        if door is not None and door.class_name == "gce-internal":
            yield (
                "gcp",
                "class `gce-internal`: set `gcp` (project, region, proxy_only_cidr: the region's proxy-only subnet, "
                "which the gateway's NetworkPolicy admits)",
            )
        return
    path, value = "gcp.proxy_only_cidr", env.gcp.proxy_only_cidr
    try:
        proxy = ipaddress.IPv4Network(value)
    except ValueError as exc:
        yield path, f"`{value}` is not an IPv4 network address ({exc})"
        return
    if not any(proxy.subnet_of(r) for r in PRIVATE_RANGES):
        yield path, f"`{value}` is not a private range (RFC 1918 or the shared space 100.64.0.0/10)"
    if proxy.prefixlen > PROXY_ONLY_MAX_PREFIX:
        yield path, f"`{value}` is smaller than a /{PROXY_ONLY_MAX_PREFIX}, the smallest proxy-only subnet (use a /23)"
    for name, other in _rendered_ranges(env).items():
        try:
            overlaps = proxy.overlaps(ipaddress.ip_network(other, strict=False))
        except ValueError:
            continue  # network.cidr's own rule reports it
        if overlaps:
            yield path, f"`{value}` overlaps {name} ({other})"
