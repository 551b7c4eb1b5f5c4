"""What moto cannot do, checked with botocore's Stubber (each stub asserts the exact request): AccessDenied (moto does
not enforce IAM), elasticache:TestFailover and xray:GetTraceSummaries (moto 5.2.5 does not implement them), and
RestoreDBClusterFromSnapshot (moto 5.2.5 fails it for clusters with an RDS-managed master password)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from gatekit.ops.aws import Aws, SafeClient
from gatekit.ops.cache import plan_cache_failover
from gatekit.ops.db import plan_restore
from gatekit.ops.discovery import Deployment
from gatekit.ops.ecs_ops import plan_scale
from gatekit.ops.errors import OpsError, PermissionDenied
from gatekit.ops.triage import SYMPTOMS, run_xray
from tests.ops.conftest import Drill


def raw(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_access_denied_names_the_permission() -> None:
    ecs = raw("ecs")
    with Stubber(ecs) as stub:
        stub.add_client_error("update_service", "AccessDeniedException", "not authorized", 400)
        with pytest.raises(PermissionDenied) as caught:
            SafeClient(ecs).update_service(cluster="c", service="s", desiredCount=1)
    assert caught.value.permission == "ecs:UpdateService"
    assert "`ecs:UpdateService`" in str(caught.value) and caught.value.exit_code == 3


def test_s3_permission_names_differ_from_operations() -> None:
    s3 = raw("s3")
    with Stubber(s3) as stub:
        stub.add_client_error("list_object_versions", "AccessDenied", "denied", 403)
        with pytest.raises(PermissionDenied) as caught:
            SafeClient(s3).list_object_versions(Bucket="b")
    assert caught.value.permission == "s3:ListBucketVersions"


@pytest.fixture
def moto_env(deployed: Drill, monkeypatch: pytest.MonkeyPatch) -> Drill:
    """The seeded deployment, with this process's AWS SDK pointed at its moto server."""
    for key, value in deployed.moto.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return deployed


def _deployment(deployed: Drill, **stubbed: Any) -> Deployment:
    deployment = Deployment.open(deployed.env())
    for service, client in stubbed.items():
        deployment.aws.use(service.replace("_", "-"), client)
    return deployment


def test_scale_denied_by_iam(moto_env: Drill) -> None:
    deployed = moto_env
    """Discovery runs against moto; the one write is denied, as IAM would deny it."""
    ecs = raw("ecs")
    deployment = _deployment(deployed)
    service = deployment.describe_service()
    deployment.aws.use("ecs", ecs)
    with Stubber(ecs) as stub:
        stub.add_response("describe_services", {"services": [service]}, {"cluster": ANY, "services": ANY})
        stub.add_client_error("update_service", "AccessDeniedException", "no", 400)
        plan, _ = plan_scale(deployment, 3, None, None, None, None)
        with pytest.raises(PermissionDenied, match="ecs:UpdateService"):
            plan.execute(True, lambda _: None)


def _group(primary: str, failover: str = "enabled") -> dict[str, Any]:
    members = [
        {"CacheClusterId": "g-001", "CurrentRole": "primary" if primary == "g-001" else "replica"},
        {"CacheClusterId": "g-002", "CurrentRole": "primary" if primary == "g-002" else "replica"},
    ]
    return {
        "ReplicationGroupId": "g",
        "Status": "available",
        "AutomaticFailover": failover,
        "NodeGroups": [{"NodeGroupId": "0001", "PrimaryEndpoint": {"Address": "x"}, "NodeGroupMembers": members}],
    }


def test_cache_failover(moto_env: Drill) -> None:
    deployed = moto_env
    ec = raw("elasticache")
    deployment = _deployment(deployed, elasticache=ec)
    deployment._outputs["data"] = {"CacheEndpoint": "x"}
    with Stubber(ec) as stub:
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [_group("g-001")]}, {})
        stub.add_response(
            "test_failover",
            {"ReplicationGroup": _group("g-001")},
            {"ReplicationGroupId": "g", "NodeGroupId": "0001"},
        )
        stub.add_response(
            "describe_replication_groups", {"ReplicationGroups": [_group("g-002")]}, {"ReplicationGroupId": "g"}
        )
        results = plan_cache_failover(deployment, "0001", 30).execute(True, lambda _: None)
        stub.assert_no_pending_responses()
    assert results[-1] == "g-002"


def test_cache_failover_without_replica(moto_env: Drill) -> None:
    deployed = moto_env
    ec = raw("elasticache")
    deployment = _deployment(deployed, elasticache=ec)
    deployment._outputs["data"] = {"CacheEndpoint": "x"}
    with Stubber(ec) as stub:
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [_group("g-001", "disabled")]}, {})
        with pytest.raises(OpsError, match="cannot fail over"):
            plan_cache_failover(deployment, "0001", 30)


def test_triage_xray(moto_env: Drill) -> None:
    deployed = moto_env
    xray = raw("xray")
    deployment = _deployment(deployed, xray=xray)
    with Stubber(xray) as stub:
        stub.add_response(
            "get_trace_summaries",
            {"TraceSummaries": [{"Id": "1-5f000000-abcdefabcdefabcdefabcdef", "HasFault": True, "ResponseTime": 7.5}]},
            {
                "StartTime": ANY,
                "EndTime": ANY,
                "FilterExpression": 'service("gk-drill-gateway") AND (fault = true OR http.status >= 500)',
                "Sampling": False,
            },
        )
        found = run_xray(deployment, SYMPTOMS["5xx"], timedelta(minutes=30))
    assert found[0]["HasFault"] is True


def test_restore_from_snapshot_request(moto_env: Drill) -> None:
    deployed = moto_env
    rds = raw("rds")
    deployment = _deployment(deployed)
    source = deployment.db_cluster()
    deployment.aws.use("rds", rds)
    deployment.db_cluster = lambda: source  # type: ignore[method-assign]
    with Stubber(rds) as stub:
        stub.add_response(
            "describe_db_cluster_snapshots", {"DBClusterSnapshots": []}, {"DBClusterSnapshotIdentifier": "s1"}
        )
        expected = {
            "DBClusterIdentifier": "restored",
            "SnapshotIdentifier": "s1",
            "Engine": "aurora-postgresql",
            "EngineVersion": ANY,
            "EnableIAMDatabaseAuthentication": True,
            "DeletionProtection": True,
            "CopyTagsToSnapshot": True,
            "Tags": ANY,
            "ServerlessV2ScalingConfiguration": ANY,
        }
        for key in ("KmsKeyId", "DBClusterParameterGroupName", "DBSubnetGroupName", "VpcSecurityGroupIds"):
            field = {"DBClusterParameterGroupName": "DBClusterParameterGroup", "DBSubnetGroupName": "DBSubnetGroup"}
            if source.get(field.get(key, key)) or (key == "VpcSecurityGroupIds" and source.get("VpcSecurityGroups")):
                expected[key] = ANY
        stub.add_response("restore_db_cluster_from_snapshot", {"DBCluster": {}}, expected)
        stub.add_response(
            "create_db_instance",
            {"DBInstance": {}},
            {
                "DBInstanceIdentifier": "restored-writer",
                "DBClusterIdentifier": "restored",
                "DBInstanceClass": "db.serverless",
                "Engine": "aurora-postgresql",
            },
        )
        stub.add_response(
            "describe_db_clusters",
            {"DBClusters": [{"Status": "available", "Endpoint": "restored.cluster-x"}]},
            {"DBClusterIdentifier": "restored"},
        )
        plan = plan_restore(deployment, "s1", None, False, "restored", 60)
        assert plan.execute(True, lambda _: None)[-1] == "restored.cluster-x"
        stub.assert_no_pending_responses()


def test_restore_needs_exactly_one_source(deployed: Drill) -> None:
    deployment = Deployment.open(deployed.env(), Aws("us-east-1"))
    with pytest.raises(OpsError, match="exactly one"):
        plan_restore(deployment, "s1", datetime.now(UTC), False, None, 60)
