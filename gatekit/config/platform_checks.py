"""Platform rules of the Kubernetes targets (gcp, azure, k8s, aws-eks) that fail validation loudly (security, issue 12).

- The collector sidecar runs next to the gateway with its secrets: its image is pinned by digest, like the gateway's,
  on every target that renders it (aws-eks too: one contract with the Pulumi targets).
- `network.deployer_cidrs` opens the cluster API and the Azure stores to those networks only: never to everyone."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from gatekit.config.environment import Environment

Finding = tuple[str, str]
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PULUMI_TARGETS = frozenset({"gcp", "azure", "k8s"})
COLLECTOR_TARGETS = frozenset({"gcp", "azure", "aws-eks"})  # their programs always wire the sidecar's exporter


def collector_renders(env: Environment) -> bool:
    """Whether the Kubernetes manifests carry the collector sidecar (gatekit.render.k8s)."""
    if not env.observability.otlp_endpoint:
        return False
    return env.target in COLLECTOR_TARGETS or (
        env.target == "k8s" and bool(env.observability.collector_export_endpoint)
    )


def _whole_internet(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def platform_findings(env: Environment) -> Iterator[Finding]:
    image = env.observability.collector_image
    if collector_renders(env) and not DIGEST.search(image):
        yield (
            "observability.collector_image",
            f"`{image}` is pulled by tag; on `{env.target}` pin it by digest (…@sha256:<64 hex>) of the copy "
            "mirrored into your registry",
        )
    if env.target not in PULUMI_TARGETS:
        return
    for i, cidr in enumerate(env.network.deployer_cidrs):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            yield f"network.deployer_cidrs.{i}", f"`{cidr}` is not a CIDR block"
            continue
        if _whole_internet(cidr):
            yield (
                f"network.deployer_cidrs.{i}",
                f"`{cidr}` opens the cluster API and the secret store to the whole internet; name the deployer's "
                "networks, or leave the list empty and deploy from inside the network",
            )
