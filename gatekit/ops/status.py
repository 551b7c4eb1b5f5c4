"""status: one read-only picture of a deployed environment — stacks, service, tasks, config object, database,
cache, autoscaling, and (optionally) which config version every replica serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from gatekit.ops.discovery import Deployment
from gatekit.ops.ecs_ops import scalable_target
from gatekit.ops.errors import MissingResource, OpsError
from gatekit.ops.push_config import VERSION_METADATA, split_s3_uri

STACK_PARTS = ("network", "secrets", "data", "config", "observability", "gateway", "monitoring")

# --get NAME: single values for scripts (`export GATEKIT_URL="$(gatekit ops status --get gateway-url)"`). The names
# are repeated in gatekit.cli.ops.common.GETTER_NAMES so `--help` needs no boto3 import (a test keeps them equal).
GETTERS: dict[str, Callable[[Deployment], str]] = {
    "gateway-url": lambda d: d.gateway_url(),
    "cluster": lambda d: d.service.cluster,
    "service": lambda d: d.service.service,
    "config-uri": lambda d: d.config_uri(),
    "log-group": lambda d: d.log_group(),
    "db-cluster": lambda d: str(d.db_cluster()["DBClusterIdentifier"]),
    "cache-group": lambda d: str(d.cache_group()["ReplicationGroupId"]),
    "task-definition": lambda d: str(d.describe_service()["taskDefinition"]),
    "latest-snapshot": lambda d: latest_snapshot(d),
}


def snapshots(deployment: Deployment) -> list[dict[str, Any]]:
    """The database cluster's snapshots (automated and manual), newest first."""
    cluster = deployment.db_cluster()["DBClusterIdentifier"]
    pages = deployment.aws.client("rds").pages("describe_db_cluster_snapshots", DBClusterIdentifier=cluster)
    found = [s for p in pages for s in p.get("DBClusterSnapshots", [])]
    return sorted(found, key=lambda s: str(s.get("SnapshotCreateTime", "")), reverse=True)


def latest_snapshot(deployment: Deployment) -> str:
    found = [s for s in snapshots(deployment) if s.get("Status") == "available"]
    if not found:
        raise MissingResource(f"an available snapshot of {deployment.db_cluster()['DBClusterIdentifier']}")
    return str(found[0]["DBClusterSnapshotIdentifier"])


def _optional(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (MissingResource, OpsError) as exc:
        return {"error": str(exc)}


def collect(deployment: Deployment, key: Callable[[], str] | None, replicas: tuple[str, ...]) -> dict[str, Any]:
    env = deployment.env
    out: dict[str, Any] = {"environment": env.name, "prefix": deployment.prefix, "region": deployment.aws.region}
    out["stacks"] = {deployment.stack_name(p): bool(deployment.outputs(p)) for p in STACK_PARTS}
    out["service"] = _optional(lambda: _service(deployment))
    out["config"] = _optional(lambda: _config(deployment))
    if env.database.enabled:
        out["database"] = _optional(lambda: _database(deployment))
    if env.cache.enabled:
        out["cache"] = _optional(lambda: _cache(deployment))
    if key is not None:
        from gatekit.ops.replicas import statuses

        urls = deployment.replica_urls(replicas)
        out["replicas"] = [vars(s) for s in statuses(urls, key())]
    return out


def _service(deployment: Deployment) -> dict[str, Any]:
    service = deployment.describe_service()
    target = scalable_target(deployment)
    return {
        "cluster": deployment.service.cluster,
        "service": deployment.service.service,
        "task_definition": service["taskDefinition"].rsplit("/", 1)[-1],
        "desired": service.get("desiredCount"),
        "running": service.get("runningCount"),
        "pending": service.get("pendingCount"),
        "deployments": [
            f"{d.get('status')} {d.get('rolloutState', '?')} {d.get('taskDefinition', '').rsplit('/', 1)[-1]} "
            f"{d.get('runningCount')}/{d.get('desiredCount')}"
            for d in service.get("deployments", [])
        ],
        "autoscaling": {"min": target.get("MinCapacity"), "max": target.get("MaxCapacity")} if target else None,
        "tasks": [
            {
                "id": t["taskArn"].rsplit("/", 1)[-1],
                "status": t.get("lastStatus"),
                "health": t.get("healthStatus"),
                "started": str(t.get("startedAt") or ""),
            }
            for t in deployment.tasks()
        ],
    }


def _config(deployment: Deployment) -> dict[str, Any]:
    uri = deployment.config_uri()
    bucket, key = split_s3_uri(uri)
    head = deployment.aws.client("s3").head_object(Bucket=bucket, Key=key)
    return {
        "uri": uri,
        "version": head.get("Metadata", {}).get(VERSION_METADATA),
        "object_version": head.get("VersionId"),
        "modified": str(head.get("LastModified")),
    }


def _database(deployment: Deployment) -> dict[str, Any]:
    cluster = deployment.db_cluster()
    return {
        "cluster": cluster["DBClusterIdentifier"],
        "status": cluster.get("Status"),
        "members": [
            f"{m['DBInstanceIdentifier']} ({'writer' if m.get('IsClusterWriter') else 'reader'})"
            for m in cluster.get("DBClusterMembers", [])
        ],
        "latest_restorable_time": str(cluster.get("LatestRestorableTime") or ""),
        "snapshots": [
            f"{s['DBClusterSnapshotIdentifier']} ({s.get('SnapshotType')}, {s.get('SnapshotCreateTime')})"
            for s in snapshots(deployment)[:5]
        ],
    }


def _cache(deployment: Deployment) -> dict[str, Any]:
    group = deployment.cache_group()
    return {
        "replication_group": group["ReplicationGroupId"],
        "status": group.get("Status"),
        "automatic_failover": group.get("AutomaticFailover"),
        "nodes": len(group.get("MemberClusters", [])),
    }


def render(status: dict[str, Any], indent: int = 0) -> str:
    """Readable nested key: value lines."""
    pad = "  " * indent
    lines: list[str] = []
    for key, value in status.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(render(cast("dict[str, Any]", value), indent + 1))
        elif isinstance(value, list):
            lines.append(f"{pad}{key}:")
            for item in cast("list[Any]", value):
                text: Any = item
                if isinstance(item, dict):
                    fields = cast("dict[str, Any]", item)
                    text = ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
                lines.append(f"{pad}  - {text}")
        else:
            lines.append(f"{pad}{key}: {value}")
    return "\n".join(line for line in lines if line)
