"""ElastiCache: fail the primary over to a replica (elasticache:TestFailover). Flushing goes through the gateway
(gateway_api.flush_cache): ElastiCache has no flush API, and the cache sits in isolated subnets."""

from __future__ import annotations

import time
from typing import Any

from gatekit.ops.discovery import Deployment
from gatekit.ops.errors import OpsError
from gatekit.ops.plan import Plan


def primary_node(group: dict[str, Any], node_group: str) -> str | None:
    for ng in group.get("NodeGroups", []):
        if ng.get("NodeGroupId") == node_group:
            for member in ng.get("NodeGroupMembers", []):
                if member.get("CurrentRole") == "primary":
                    return str(member.get("CacheClusterId"))
    return None


def plan_cache_failover(deployment: Deployment, node_group: str, timeout: float) -> Plan:
    group = deployment.cache_group()
    group_id = group["ReplicationGroupId"]
    if group.get("AutomaticFailover") not in ("enabled", "enabling"):
        raise OpsError(
            f"replication group {group_id} has automatic failover `{group.get('AutomaticFailover')}` (no replica): "
            "environments with cache.replicas_per_shard: 0 cannot fail over — flush or replace instead"
        )
    old = primary_node(group, node_group)
    plan = Plan(f"fail over cache {group_id} of `{deployment.env.name}` (node group {node_group}, primary {old})")
    ec = deployment.aws.client("elasticache")
    plan.add(
        f"elasticache:TestFailover {group_id} node group {node_group} (a replica is promoted; the primary endpoint "
        "follows it; clients reconnect)",
        lambda: ec.test_failover(ReplicationGroupId=group_id, NodeGroupId=node_group),
    )
    plan.add(
        f"wait up to {timeout:.0f} s until {group_id} is available with a new primary",
        lambda: _wait_new_primary(deployment, group_id, node_group, old, timeout),
    )
    return plan


def _wait_new_primary(deployment: Deployment, group_id: str, node_group: str, old: str | None, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    ec = deployment.aws.client("elasticache")
    while True:
        group = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
        primary = primary_node(group, node_group)
        if group.get("Status") == "available" and primary and primary != old:
            return primary
        if time.monotonic() >= deadline:
            raise OpsError(f"{group_id}: primary still {primary} ({group.get('Status')}) after {timeout:.0f} s", 2)
        time.sleep(10)
