"""Seed a moto server with what `cdk deploy` of one environment leaves in an account: the stacks' outputs (the names
gatekit ops discovers), tags, the ECS cluster/service/task definitions and tasks, autoscaling, Secrets Manager secrets,
the versioned config bucket with the rendered document, Aurora (writer + reader, managed master secret, a snapshot),
ElastiCache (replication group with failover), the gateway log group, and X-Ray segments.

Physical names carry a random suffix, as CloudFormation's do, so nothing can rely on a fixed name."""

from __future__ import annotations

import json
import secrets as pysecrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from gatekit.config import Environment
from gatekit.ops.discovery import DEPLOYMENT_TAG
from gatekit.ops.push_config import VERSION_METADATA, render_document
from gatekit.ops.secrets_ops import secret_refs

CONFIG_KEY = "gateway/environment.json"


def config_bucket_name(prefix: str) -> str:
    return f"{prefix}-config-configbucket-{pysecrets.token_hex(4)}"


@dataclass
class Seeded:
    prefix: str
    cluster: str
    service: str
    bucket: str
    config_uri: str
    task_ids: list[str] = field(default_factory=list)
    secret_arns: dict[str, str] = field(default_factory=dict)
    db_cluster: str = ""
    db_snapshot: str = ""
    cache_group: str = ""
    log_group: str = ""


def _tags(env: Environment) -> dict[str, str]:
    return {**env.tags, DEPLOYMENT_TAG: env.deployment.prefix}


def _stack(cf: Any, name: str, outputs: dict[str, str], tags: dict[str, str]) -> None:
    template = {
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cf.create_stack(
        StackName=name, TemplateBody=json.dumps(template), Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )


def seed(env: Environment, endpoint: str, gateway_url: str, master_key: str, bucket: str) -> Seeded:
    """Everything one deployed environment has. `bucket` is the config bucket (its name is fixed before the
    gateway replica starts, because the replica needs its sync uri)."""
    assert env.aws is not None
    region = env.aws.region
    prefix = env.deployment.prefix
    tags = _tags(env)

    def client(name: str) -> Any:
        return boto3.client(
            name, region_name=region, endpoint_url=endpoint, aws_access_key_id="drill", aws_secret_access_key="drill"
        )

    suffix = pysecrets.token_hex(4).upper()
    seeded = Seeded(
        prefix=prefix,
        cluster=f"{prefix}-gateway-Cluster{suffix}",
        service=f"{prefix}-gateway-Service{suffix}",
        bucket=bucket,
        config_uri=f"s3://{bucket}/{CONFIG_KEY}",
    )
    _secrets(env, client("secretsmanager"), seeded, master_key, tags)
    _config(env, client("s3"), seeded, tags)
    _ecs(env, client("ecs"), client("application-autoscaling"), seeded, tags)
    if env.database.enabled:
        _database(env, client("rds"), seeded, tags)
    if env.cache.enabled:
        _cache(env, client("elasticache"), seeded, tags)
    _observability(client("logs"), client("xray"), seeded, prefix)
    _stacks(env, client("cloudformation"), client("rds"), client("elasticache"), seeded, gateway_url, tags)
    return seeded


def _secrets(env: Environment, sm: Any, seeded: Seeded, master_key: str, tags: dict[str, str]) -> None:
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    for name, ref in secret_refs(env).items():
        value = master_key if name == "master-key" else "drill-provider-key-" + pysecrets.token_hex(8)
        created = sm.create_secret(
            Name=f"{env.deployment.prefix}-secrets-Secret{name.title().replace('-', '')}-{pysecrets.token_hex(4)}",
            SecretString=json.dumps({ref.key: value}) if ref.key else value,
            Tags=tag_list,
        )
        seeded.secret_arns[name] = created["ARN"]


def _config(env: Environment, s3: Any, seeded: Seeded, tags: dict[str, str]) -> None:
    s3.create_bucket(Bucket=seeded.bucket)
    s3.put_bucket_versioning(Bucket=seeded.bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=seeded.bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    # A deployed bucket has history: the config pushed before (one more retry) and the current one.
    data = env.model_dump(mode="json")
    data["gateway"]["routing"]["num_retries"] = env.gateway.routing.num_retries + 1
    for version in (Environment.model_validate(data), env):
        document = render_document(version, seeded.config_uri)
        s3.put_object(
            Bucket=seeded.bucket,
            Key=CONFIG_KEY,
            Body=document.body,
            ContentType="application/json",
            Metadata={VERSION_METADATA: document.version},
        )


def _ecs(env: Environment, ecs: Any, autoscaling: Any, seeded: Seeded, tags: dict[str, str]) -> None:
    ecs_tags = [{"key": k, "value": v} for k, v in tags.items()]
    ecs.create_cluster(clusterName=seeded.cluster, tags=ecs_tags)
    family = f"{seeded.prefix}gatewayTask{pysecrets.token_hex(3)}"
    secrets_list = [
        {"name": ref.env_var, "valueFrom": seeded.secret_arns[name] + (f":{ref.key}::" if ref.key else "")}
        for name, ref in secret_refs(env).items()
    ]
    revisions = []
    # A deployed service has history: several revisions, the service on the newest.
    for image_tag in ("v1", "v2", "v3", "v4", "v5"):
        revisions.append(
            ecs.register_task_definition(
                family=family,
                # moto 5.2.5 cannot start awsvpc tasks (its ENI model lacks private_dns_name), so the drill's tasks
                # run in bridge mode without ENI attachments. Replica discovery by private IP is unit-tested on the
                # DescribeTasks shape instead; drills name their replica with $GATEKIT_REPLICAS.
                networkMode="bridge",
                cpu=str(env.compute.cpu),
                memory=str(env.compute.memory_mib),
                containerDefinitions=[
                    {
                        "name": "gateway",
                        "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/gatekit-gateway:{image_tag}",
                        "essential": True,
                        "cpu": env.compute.cpu,
                        "memory": env.compute.memory_mib,
                        "portMappings": [{"containerPort": env.gateway.port}],
                        "environment": [{"name": "GATEKIT_CONFIG_URI", "value": seeded.config_uri}],
                        "secrets": secrets_list,
                    }
                ],
            )["taskDefinition"]["taskDefinitionArn"]
        )
    desired = env.compute.replicas.desired
    ecs.create_service(
        cluster=seeded.cluster,
        serviceName=seeded.service,
        taskDefinition=revisions[-1],
        desiredCount=desired,
        launchType="FARGATE",
        tags=ecs_tags,
    )
    # moto reports runningCount = desiredCount once the count is updated (it launches no task by itself).
    ecs.update_service(cluster=seeded.cluster, service=seeded.service, desiredCount=desired)
    started = ecs.run_task(
        cluster=seeded.cluster,
        taskDefinition=revisions[-1],
        count=desired,
        launchType="FARGATE",
        group=f"service:{seeded.service}",
        startedBy="ecs-svc/drill",
    )
    seeded.task_ids = [t["taskArn"].rsplit("/", 1)[-1] for t in started["tasks"]]
    resource = f"service/{seeded.cluster}/{seeded.service}"
    replicas = env.compute.replicas
    autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=replicas.min,
        MaxCapacity=replicas.max,
    )
    for name, metric, value, label in (
        ("Cpu", "ECSServiceAverageCPUUtilization", env.compute.autoscaling.cpu_target_percent, None),
        (
            "Requests",
            "ALBRequestCountPerTarget",
            env.compute.autoscaling.requests_per_target,
            "app/gk/1/targetgroup/gk/2",
        ),
    ):
        spec: dict[str, Any] = {"PredefinedMetricType": metric}
        if label:
            spec["ResourceLabel"] = label
        autoscaling.put_scaling_policy(
            PolicyName=f"{seeded.prefix}-gateway-{name}{pysecrets.token_hex(3)}",
            ServiceNamespace="ecs",
            ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(value),
                "PredefinedMetricSpecification": spec,
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )


def _database(env: Environment, rds: Any, seeded: Seeded, tags: dict[str, str]) -> None:
    seeded.db_cluster = f"{seeded.prefix}-data-databasecluster{pysecrets.token_hex(4)}"
    rds.create_db_cluster(
        DBClusterIdentifier=seeded.db_cluster,
        Engine="aurora-postgresql",
        EngineVersion=env.database.engine_version,
        MasterUsername="gatekit_admin",
        ManageMasterUserPassword=True,
        EnableIAMDatabaseAuthentication=True,
        StorageEncrypted=True,
        DeletionProtection=env.database.deletion_protection,
        BackupRetentionPeriod=env.database.backup_retention_days,
        ServerlessV2ScalingConfiguration={
            "MinCapacity": env.database.min_capacity_acu,
            "MaxCapacity": env.database.max_capacity_acu,
        },
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    for role in ("writer", "reader"):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{seeded.db_cluster}-{role}",
            DBClusterIdentifier=seeded.db_cluster,
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
        )
    seeded.db_snapshot = f"{seeded.db_cluster}-nightly"
    rds.create_db_cluster_snapshot(
        DBClusterIdentifier=seeded.db_cluster, DBClusterSnapshotIdentifier=seeded.db_snapshot
    )


def _cache(env: Environment, ec: Any, seeded: Seeded, tags: dict[str, str]) -> None:
    seeded.cache_group = f"{seeded.prefix}-cache-{pysecrets.token_hex(3)}"
    replicas = max(env.cache.replicas_per_shard, 0)
    ec.create_replication_group(
        ReplicationGroupId=seeded.cache_group,
        ReplicationGroupDescription=f"{seeded.prefix} gateway cache",
        Engine=env.cache.engine,
        CacheNodeType=env.cache.node_type,
        NumCacheClusters=replicas + 1,
        AutomaticFailoverEnabled=replicas > 0,
        TransitEncryptionEnabled=True,
        AtRestEncryptionEnabled=True,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def _observability(logs: Any, xray: Any, seeded: Seeded, prefix: str) -> None:
    seeded.log_group = f"{prefix}-observability-GatewayLogs{pysecrets.token_hex(4)}"
    logs.create_log_group(logGroupName=seeded.log_group)
    logs.create_log_stream(logGroupName=seeded.log_group, logStreamName="gateway/gateway/drill")
    now = int(time.time() * 1000)
    lines = [
        {"level": "INFO", "message": "request", "path": "/v1/chat/completions", "status": 200, "duration_ms": 812.5},
        {"level": "INFO", "message": "request", "path": "/v1/chat/completions", "status": 503, "duration_ms": 0.4},
        {"level": "ERROR", "message": "config sync: rejected document", "error": "gateway.models.0: invalid"},
    ]
    logs.put_log_events(
        logGroupName=seeded.log_group,
        logStreamName="gateway/gateway/drill",
        logEvents=[
            {"timestamp": now - 1000 * (len(lines) - i), "message": json.dumps(line)} for i, line in enumerate(lines)
        ],
    )
    start = time.time() - 5
    trace_id = f"1-{int(start):08x}-{uuid.uuid4().hex[:24]}"
    segment = {
        "name": f"{prefix}-gateway",
        "id": uuid.uuid4().hex[:16],
        "trace_id": trace_id,
        "start_time": start,
        "end_time": start + 7.5,
        "fault": True,
        "http": {"response": {"status": 502}},
    }
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])


def _stacks(
    env: Environment, cf: Any, rds: Any, ec: Any, seeded: Seeded, gateway_url: str, tags: dict[str, str]
) -> None:
    prefix = seeded.prefix
    _stack(
        cf,
        f"{prefix}-gateway",
        {"ClusterName": seeded.cluster, "ServiceName": seeded.service, "GatewayUrl": gateway_url},
        tags,
    )
    _stack(cf, f"{prefix}-config", {"ConfigBucketName": seeded.bucket, "ConfigUri": seeded.config_uri}, tags)
    secrets_outputs = {
        "Secret" + "".join(p.capitalize() for p in name.split("-")) + "Arn": arn
        for name, arn in seeded.secret_arns.items()
    }
    _stack(cf, f"{prefix}-secrets", secrets_outputs, tags)
    data: dict[str, str] = {}
    if seeded.db_cluster:
        data["DatabaseEndpoint"] = rds.describe_db_clusters(DBClusterIdentifier=seeded.db_cluster)["DBClusters"][0][
            "Endpoint"
        ]
    if seeded.cache_group:
        group = ec.describe_replication_groups(ReplicationGroupId=seeded.cache_group)["ReplicationGroups"][0]
        data["CacheEndpoint"] = group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    _stack(cf, f"{prefix}-data", data, tags)
    _stack(cf, f"{prefix}-observability", {"GatewayLogGroup": seeded.log_group}, tags)
