"""Cloud Armor in front of GKE's external Application Load Balancer (security, issue 12).

`network.allowed_ingress_cidrs` cannot be enforced in the cluster on GKE: the load balancer's proxies, not the
clients, open the connections to the pods. So the gcp program creates a Cloud Armor backend security policy (global,
type CLOUD_ARMOR: the external load balancer of class `gce` has global backend services) that admits those networks,
each client address throttled to `gateway.exposure.client_requests_per_5min` (429 beyond), and denies every other
address (403). The gateway's BackendConfig (gatekit.render.k8s_ingress) attaches it by name to the Service's backend
service. GKE's internal load balancer (`gce-internal`) has regional backend services, to which ingress-gce attaches
no security policy; validation refuses restricted CIDRs there instead (gatekit.config.tls_checks)."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_gcp as gcp

from gatekit.config import Environment
from gatekit.config.network_access import ingress_cidrs
from gatekit.render.k8s_ingress import cloud_armor_policy

RANGES_PER_RULE = 10  # Cloud Armor's limit of source ranges in one basic match condition
FIRST_PRIORITY = 1000
DEFAULT_PRIORITY = 2147483647  # the default rule: evaluated last, matches every request
RATE_INTERVAL_SECONDS = 300  # the knob is per 5 minutes (the same rule as the AWS WAF rate-based rule)


def _source_ranges(cidrs: list[str]) -> list[str]:
    """The allowed networks as Cloud Armor source ranges (`*` for the whole internet)."""
    if any(ipaddress.ip_network(c, strict=False).prefixlen == 0 for c in cidrs):
        return ["*"]
    return [str(ipaddress.ip_network(c, strict=False)) for c in cidrs]


def _match(ranges: list[str]) -> gcp.compute.SecurityPolicyRuleMatchArgs:
    return gcp.compute.SecurityPolicyRuleMatchArgs(
        versioned_expr="SRC_IPS_V1",
        config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=ranges),
    )


def armor_rules(env: Environment) -> list[gcp.compute.SecurityPolicyRuleArgs]:
    """Throttled admission for the allowed networks (10 ranges a rule), then deny everything else with 403."""
    ranges = _source_ranges(ingress_cidrs(env))
    threshold = gcp.compute.SecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
        count=env.gateway.exposure.client_requests_per_5min, interval_sec=RATE_INTERVAL_SECONDS
    )
    rules = [
        gcp.compute.SecurityPolicyRuleArgs(
            priority=FIRST_PRIORITY + i,
            action="throttle",
            description="network.allowed_ingress_cidrs, each client address throttled",
            match=_match(ranges[start : start + RANGES_PER_RULE]),
            rate_limit_options=gcp.compute.SecurityPolicyRuleRateLimitOptionsArgs(
                conform_action="allow",
                exceed_action="deny(429)",
                enforce_on_key="IP",
                rate_limit_threshold=threshold,
            ),
        )
        for i, start in enumerate(range(0, len(ranges), RANGES_PER_RULE))
    ]
    rules.append(
        gcp.compute.SecurityPolicyRuleArgs(
            priority=DEFAULT_PRIORITY,
            action="deny(403)",
            description="every other address",
            match=_match(["*"]),
        )
    )
    return rules


def security_policy(env: Environment, opts: pulumi.ResourceOptions) -> gcp.compute.SecurityPolicy | None:
    """The gateway's Cloud Armor policy, or None when its load balancer takes none (not GKE's external one)."""
    name = cloud_armor_policy(env)
    if name is None:
        return None
    return gcp.compute.SecurityPolicy(
        f"{env.deployment.prefix}-armor",
        name=name,
        type="CLOUD_ARMOR",
        description="gatekit: clients allowed by network.allowed_ingress_cidrs; every other address denied",
        rules=armor_rules(env),
        opts=opts,
    )
