"""`gatekit ops` against moto seeded like a deployed environment: the happy path and one failure per operation.
(Operations that go through a live replica are in test_gateway_ops.py; APIs moto lacks in test_stubbed.py.)"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from gatekit.cli.ops.common import GETTER_NAMES
from gatekit.ops.status import GETTERS
from tests.conftest import free_port
from tests.ops.conftest import Drill, Invoke

pytestmark = pytest.mark.slow

OPERATIONS = (
    "status",
    "push-config",
    "rotate-secret",
    "scale",
    "drain",
    "rollback",
    "failover-db",
    "restore-db",
    "failover-cache",
    "flush-cache",
    "spend",
    "triage",
    "verify",
)


def client(d: Drill, service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", **{"endpoint_url": d.moto.endpoint}, **_creds())


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": "drill", "aws_secret_access_key": "drill"}


def test_help_lists_every_operation(ops: Invoke) -> None:
    result = ops("--help")
    assert result.exit_code == 0
    for name in OPERATIONS:
        assert f"  {name} " in result.output, name
    assert sorted(GETTERS) == sorted(GETTER_NAMES)


def test_status(ops: Invoke, deployed: Drill) -> None:
    seeded = deployed.seeded
    assert seeded is not None
    result = ops("status")
    assert result.exit_code == 0, result.output
    assert seeded.cluster in result.output and seeded.db_cluster in result.output
    assert ops("status", "--get", "cluster").output.strip() == seeded.cluster
    assert ops("status", "--get", "config-uri").output.strip() == seeded.config_uri


def test_status_missing_stack(ops: Invoke) -> None:
    result = ops("status", "--get", "cluster", "--set", "deployment.prefix=gk-absent")
    assert result.exit_code == 4
    assert "gk-absent-gateway" in result.output and "Traceback" not in result.output


def test_no_credentials_names_the_permission(deployed: Drill, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from gatekit.cli import cli

    env: dict[str, str | None] = {
        **deployed.cli_env(),
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = CliRunner(env=env).invoke(cli, ["ops", "status", "--get", "cluster"], catch_exceptions=False)
    assert result.exit_code == 3
    assert "no AWS credentials" in result.output and "cloudformation:DescribeStacks" in result.output


def test_push_config_names_replicas_that_do_not_converge(ops: Invoke) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = ops("push-config", "--replica", dead, "--timeout", "2")
    assert result.exit_code == 2, result.output
    assert "NOT CONVERGED" in result.output and dead in result.output and "unreachable" in result.output


def test_push_config_dry_run_shows_changes(ops: Invoke, deployed: Drill) -> None:
    result = ops("push-config", "--dry-run", "--set", "gateway.routing.num_retries=7")
    assert result.exit_code == 0, result.output
    assert "gateway.routing.num_retries" in result.output and "nothing uploaded" in result.output
    assert deployed.seeded is not None
    versions = client(deployed, "s3").list_object_versions(Bucket=deployed.seeded.bucket)["Versions"]
    assert len(versions) == 2  # the seeded history only


def _secret(d: Drill, name: str, stage: str = "AWSCURRENT") -> str:
    assert d.seeded is not None
    arn = d.seeded.secret_arns[name]
    return str(client(d, "secretsmanager").get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"])


def test_rotate_master_key_and_roll_back(ops: Invoke, deployed: Drill) -> None:
    before = _secret(deployed, "master-key")
    assert ops("rotate-secret", "--secret", "master-key").exit_code == 0
    assert _secret(deployed, "master-key") == before  # dry run
    result = ops("rotate-secret", "--secret", "master-key", "--yes", "--wait-timeout", "10")
    assert result.exit_code == 0, result.output
    after = _secret(deployed, "master-key")
    assert after != before and after.startswith("sk-") and _secret(deployed, "master-key", "AWSPREVIOUS") == before
    assert before not in result.output and after not in result.output
    assert ops("rollback", "--secret", "master-key", "--yes", "--timeout", "10").exit_code == 0
    assert _secret(deployed, "master-key") == before


def test_rotate_provider_key_from_env(deployed: Drill) -> None:
    from click.testing import CliRunner

    from gatekit.cli import cli

    env: dict[str, str | None] = {**deployed.cli_env(), "NEW_KEY": "sk-provider-new-value-123"}
    args = ["ops", "rotate-secret", "--secret", "openai-api-key", "--value-from-env", "NEW_KEY", "--yes"]
    result = CliRunner(env=env).invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert _secret(deployed, "openai-api-key") == "sk-provider-new-value-123"
    assert "sk-provider-new-value-123" not in result.output


def test_rotate_unknown_secret(ops: Invoke) -> None:
    result = ops("rotate-secret", "--secret", "nope", "--yes")
    assert result.exit_code == 1
    assert "master-key" in result.output and "openai-api-key" in result.output and "db-credentials" in result.output


def test_rotate_db_credentials(ops: Invoke) -> None:
    result = ops("rotate-secret", "--secret", "db-credentials", "--yes")
    assert result.exit_code == 0, result.output
    assert "rds:ModifyDBCluster --rotate-master-user-password" in result.output


def _service(d: Drill) -> dict[str, Any]:
    assert d.seeded is not None
    ecs = client(d, "ecs")
    return ecs.describe_services(cluster=d.seeded.cluster, services=[d.seeded.service])["services"][0]


def test_scale_and_tune(ops: Invoke, deployed: Drill) -> None:
    assert ops("scale", "--desired", "3").exit_code == 0
    assert _service(deployed)["desiredCount"] == 3
    assert ops("scale", "--cpu-target", "45").exit_code == 0
    assert deployed.seeded is not None
    policies = client(deployed, "application-autoscaling").describe_scaling_policies(ServiceNamespace="ecs")
    targets = {
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]: p[
            "TargetTrackingScalingPolicyConfiguration"
        ]["TargetValue"]
        for p in policies["ScalingPolicies"]
    }
    assert targets["ECSServiceAverageCPUUtilization"] == 45.0
    dry = ops("scale", "--min", "0", "--desired", "0")
    assert dry.exit_code == 0 and "DRY RUN" in dry.output and _service(deployed)["desiredCount"] == 3
    assert ops("scale", "--from-config").exit_code == 0
    assert _service(deployed)["desiredCount"] == deployed.env().compute.replicas.desired


def test_scale_outside_autoscaling_range(ops: Invoke) -> None:
    result = ops("scale", "--desired", "40")
    assert result.exit_code == 1 and "autoscaling range" in result.output


def test_drain(ops: Invoke, deployed: Drill) -> None:
    assert deployed.seeded is not None
    task = deployed.seeded.task_ids[1]
    result = ops("drain", "--task", task, "--yes", "--wait-timeout", "10")
    assert result.exit_code == 0, result.output
    described = client(deployed, "ecs").describe_tasks(cluster=deployed.seeded.cluster, tasks=[task])["tasks"][0]
    assert described["lastStatus"] == "STOPPED"


def test_drain_unknown_task(ops: Invoke) -> None:
    result = ops("drain", "--task", "0000", "--yes")
    assert result.exit_code == 4 and "running task `0000`" in result.output


def test_rollback_service(ops: Invoke, deployed: Drill) -> None:
    before = _service(deployed)["taskDefinition"]
    result = ops("rollback", "--service", "--yes", "--timeout", "10")
    assert result.exit_code == 0, result.output
    after = _service(deployed)["taskDefinition"]
    assert int(after.rsplit(":", 1)[1]) == int(before.rsplit(":", 1)[1]) - 1


def test_rollback_needs_a_target(ops: Invoke) -> None:
    assert ops("rollback", "--yes").exit_code == 1
    result = ops("rollback", "--config", "--to", "no-such-version", "--yes")
    assert result.exit_code == 1 and "no object version `no-such-version`" in result.output


def _writer(d: Drill) -> str:
    assert d.seeded is not None
    cluster = client(d, "rds").describe_db_clusters(DBClusterIdentifier=d.seeded.db_cluster)["DBClusters"][0]
    return next(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"])


def test_failover_db(ops: Invoke, deployed: Drill) -> None:
    before = _writer(deployed)
    assert ops("failover-db").exit_code == 0 and _writer(deployed) == before  # dry run
    result = ops("failover-db", "--yes", "--timeout", "10")
    assert result.exit_code == 0, result.output
    assert _writer(deployed) != before


def test_failover_db_to_a_non_reader(ops: Invoke) -> None:
    result = ops("failover-db", "--to", "not-an-instance", "--yes")
    assert result.exit_code == 1 and "is not a reader" in result.output


def test_restore_db_point_in_time(ops: Invoke, deployed: Drill) -> None:
    result = ops("restore-db", "--latest", "--new-cluster-id", "restored-here", "--yes", "--timeout", "30")
    assert result.exit_code == 0, result.output
    restored = client(deployed, "rds").describe_db_clusters(DBClusterIdentifier="restored-here")["DBClusters"][0]
    assert restored["IAMDatabaseAuthenticationEnabled"] is True
    assert {"Key": "gatekit:restored-from", "Value": deployed.seeded.db_cluster} in restored["TagList"]  # type: ignore[union-attr]
    assert not any(t["Key"] == "gatekit:deployment" for t in restored["TagList"])


def test_restore_db_missing_snapshot(ops: Invoke) -> None:
    result = ops("restore-db", "--snapshot", "no-such-snapshot", "--yes")
    assert result.exit_code == 4 and "no-such-snapshot" in result.output


def test_triage_logs(ops: Invoke) -> None:
    result = ops("triage", "--symptom", "5xx", "--source", "logs")
    assert result.exit_code == 0, result.output
    assert "status >= 500" in result.output and "3 log row(s)" in result.output


def test_triage_missing_log_group(ops: Invoke) -> None:
    result = ops("triage", "--symptom", "latency", "--set", "deployment.prefix=gk-absent")
    assert result.exit_code == 4 and "GatewayLogGroup" in result.output


def test_flush_cache_unreachable_gateway(ops: Invoke) -> None:
    result = ops("flush-cache", "--url", f"http://127.0.0.1:{free_port()}", "--yes")
    assert result.exit_code == 5 and "cannot reach the gateway" in result.output


def test_spend_db_less_environment(ops: Invoke) -> None:
    result = ops("spend", "--set", "database.enabled=false")
    assert result.exit_code == 1 and "DB-less" in result.output
