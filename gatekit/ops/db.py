"""Aurora: fail the writer over to a reader, and restore from a snapshot or a point in time into a new cluster (never
over the live one)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from gatekit.ops.discovery import DEPLOYMENT_TAG, Deployment
from gatekit.ops.errors import OpsError
from gatekit.ops.plan import Plan

RESTORED_FROM_TAG = "gatekit:restored-from"


def writer_of(cluster: dict[str, Any]) -> str | None:
    return next(
        (m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if m.get("IsClusterWriter")), None
    )


def _describe(deployment: Deployment, cluster_id: str) -> dict[str, Any]:
    return deployment.aws.client("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]


def plan_failover(deployment: Deployment, target: str | None, timeout: float) -> Plan:
    cluster = deployment.db_cluster()
    cluster_id = cluster["DBClusterIdentifier"]
    writer = writer_of(cluster)
    readers = [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if not m.get("IsClusterWriter")]
    if not readers:
        raise OpsError(
            f"cluster {cluster_id} has no reader to fail over to (one instance: {writer}); environments with "
            "database.deletion_protection get a reader — restore or scale instead"
        )
    if target is not None and target not in readers:
        raise OpsError(f"--to {target} is not a reader of {cluster_id} (readers: {', '.join(readers)})")
    kwargs: dict[str, Any] = {"DBClusterIdentifier": cluster_id}
    if target:
        kwargs["TargetDBInstanceIdentifier"] = target
    plan = Plan(f"fail over Aurora cluster {cluster_id} of `{deployment.env.name}` (writer now {writer})")
    plan.add(
        f"rds:FailoverDBCluster {cluster_id} -> {target or 'a reader chosen by Aurora'} (the cluster endpoint "
        "follows the new writer; connections drop for ~30 s and LiteLLM reconnects)",
        lambda: deployment.aws.client("rds").failover_db_cluster(**kwargs),
    )
    plan.add(
        f"wait up to {timeout:.0f} s until the writer is no longer {writer}",
        lambda: _wait_writer_change(deployment, cluster_id, writer, timeout),
    )
    return plan


def _wait_writer_change(deployment: Deployment, cluster_id: str, old: str | None, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        cluster = _describe(deployment, cluster_id)
        writer = writer_of(cluster)
        if writer and writer != old and cluster.get("Status") == "available":
            return writer
        if time.monotonic() >= deadline:
            raise OpsError(f"writer of {cluster_id} is still {writer} after {timeout:.0f} s", exit_code=2)
        time.sleep(5)


# RDS identifiers are at most 63 characters; the writer instance adds "-writer".
MAX_CLUSTER_ID = 63 - len("-writer")


def restored_cluster_id(source: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M")
    return f"{source[: MAX_CLUSTER_ID - len(stamp) - 3].rstrip('-')}-r-{stamp}"


def plan_restore(
    deployment: Deployment,
    snapshot: str | None,
    restore_time: datetime | None,
    latest: bool,
    new_id: str | None,
    timeout: float,
) -> Plan:
    if sum(bool(x) for x in (snapshot, restore_time, latest)) != 1:
        raise OpsError("choose exactly one of --snapshot ID, --to-time ISO-8601 or --latest")
    source = deployment.db_cluster()
    source_id = source["DBClusterIdentifier"]
    new_id = new_id or restored_cluster_id(source_id)
    if len(new_id) > MAX_CLUSTER_ID:
        raise OpsError(
            f"--new-cluster-id is {len(new_id)} characters; at most {MAX_CLUSTER_ID} (the writer adds -writer)"
        )
    common: dict[str, Any] = {
        "DBClusterIdentifier": new_id,
        "DBSubnetGroupName": source.get("DBSubnetGroup"),
        "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])],
        "EnableIAMDatabaseAuthentication": bool(source.get("IAMDatabaseAuthenticationEnabled")),
        "DeletionProtection": bool(source.get("DeletionProtection")),
        "CopyTagsToSnapshot": True,
        "Tags": [
            *({"Key": t["Key"], "Value": t["Value"]} for t in source.get("TagList", []) if t["Key"] != DEPLOYMENT_TAG),
            {"Key": RESTORED_FROM_TAG, "Value": source_id},
        ],
    }
    if source.get("KmsKeyId"):
        common["KmsKeyId"] = source["KmsKeyId"]
    if source.get("DBClusterParameterGroup"):
        common["DBClusterParameterGroupName"] = source["DBClusterParameterGroup"]
    if source.get("ServerlessV2ScalingConfiguration"):
        common["ServerlessV2ScalingConfiguration"] = source["ServerlessV2ScalingConfiguration"]
    common = {k: v for k, v in common.items() if v not in (None, [])}
    rds = deployment.aws.client("rds")
    plan = Plan(f"restore the database of `{deployment.env.name}` into a NEW cluster {new_id} (source {source_id})")
    if snapshot:
        rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot)  # fails clearly when missing
        what = f"rds:RestoreDBClusterFromSnapshot {snapshot} -> {new_id}"

        def restore() -> Any:
            return rds.restore_db_cluster_from_snapshot(
                SnapshotIdentifier=snapshot,
                Engine=source["Engine"],
                EngineVersion=source.get("EngineVersion"),
                **common,
            )

    else:
        point = "the latest restorable time" if latest else restore_time.isoformat() if restore_time else ""
        what = f"rds:RestoreDBClusterToPointInTime {source_id} at {point} -> {new_id}"
        pitr: dict[str, Any] = {"UseLatestRestorableTime": True} if latest else {"RestoreToTime": restore_time}

        def restore() -> Any:
            return rds.restore_db_cluster_to_point_in_time(
                SourceDBClusterIdentifier=source_id, RestoreType="full-copy", **pitr, **common
            )

    plan.add(what + " (same subnets, security groups, KMS key, parameters, IAM auth)", restore)
    instance = f"{new_id}-writer"
    plan.add(
        f"rds:CreateDBInstance {instance} (db.serverless writer of {new_id})",
        lambda: rds.create_db_instance(
            DBInstanceIdentifier=instance,
            DBClusterIdentifier=new_id,
            DBInstanceClass="db.serverless",
            Engine=source["Engine"],
        ),
    )
    plan.add(
        f"wait up to {timeout:.0f} s until {new_id} is available", lambda: _wait_available(deployment, new_id, timeout)
    )
    return plan


def _wait_available(deployment: Deployment, cluster_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        cluster = _describe(deployment, cluster_id)
        if cluster.get("Status") == "available":
            return str(cluster.get("Endpoint"))
        if time.monotonic() >= deadline:
            raise OpsError(f"{cluster_id} is `{cluster.get('Status')}` after {timeout:.0f} s", exit_code=2)
        time.sleep(10)
