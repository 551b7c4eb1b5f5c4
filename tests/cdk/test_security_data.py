"""Security invariants of the data tier in the synthesized templates: secrets, database, cache, config bucket."""

from __future__ import annotations

from aws_cdk.assertions import Match

from gatekit.config.secrets import looks_like_secret
from gatekit.render.env import render_environment
from tests.cdk.conftest import Synthesized
from tests.cdk.helpers import as_list, containers, only, statements, task_with, template, text


def test_every_secret_ref_is_a_kms_secret_injected_through_ecs_secrets(each_env: Synthesized) -> None:
    refs = render_environment(each_env.env).secrets
    created = each_env.resources("secrets", "AWS::SecretsManager::Secret")
    assert len(created) == len({ref.secret for ref in refs.values()})
    assert all("KmsKeyId" in s["Properties"] for s in created.values())
    assert all(
        "GenerateSecretString" in s["Properties"] and "SecretString" not in s["Properties"] for s in created.values()
    )
    gateway = containers(task_with(each_env.resources("gateway", "AWS::ECS::TaskDefinition"), "gateway"))["gateway"]
    injected = {s["Name"] for s in gateway["Secrets"]}
    assert set(refs) <= injected
    assert "REDIS_PASSWORD" in injected
    plain = {e["Name"]: e["Value"] for e in gateway["Environment"]}
    assert injected.isdisjoint(plain)
    for name, value in plain.items():
        if isinstance(value, str):
            assert looks_like_secret(value) is None, name
    assert not {"DATABASE_PASSWORD", "DATABASE_URL", "REDIS_URL"} & set(plain)


def test_database_encrypted_iam_auth_tls_and_protected(each_env: Synthesized) -> None:
    db = each_env.env.database
    cluster = only(each_env.resources("data", "AWS::RDS::DBCluster"))
    props = cluster["Properties"]
    assert props["StorageEncrypted"] is True and "KmsKeyId" in props
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["ManageMasterUserPassword"] is True and "MasterUserPassword" not in props
    assert props["BackupRetentionPeriod"] == db.backup_retention_days
    assert props["DeletionProtection"] is db.deletion_protection
    assert cluster["DeletionPolicy"] == ("Snapshot" if db.deletion_protection else "Delete")
    assert props["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": db.min_capacity_acu,
        "MaxCapacity": db.max_capacity_acu,
    }
    params = only(each_env.resources("data", "AWS::RDS::DBClusterParameterGroup"))
    assert params["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    instances = each_env.resources("data", "AWS::RDS::DBInstance")
    assert len(instances) == (2 if db.deletion_protection else 1)


def test_runtime_connects_with_iam_token_as_runtime_user(each_env: Synthesized) -> None:
    gateway = containers(task_with(each_env.resources("gateway", "AWS::ECS::TaskDefinition"), "gateway"))["gateway"]
    plain = {e["Name"]: e["Value"] for e in gateway["Environment"]}
    assert plain["IAM_TOKEN_DB_AUTH"] == "True" and plain["DATABASE_USER"] == "litellm_runtime"
    task_role = [
        s
        for s in statements(each_env.resources("gateway", "AWS::IAM::Policy"))
        if "rds-db:connect" in as_list(s["Action"])
    ]
    assert len(task_role) == 1 and "litellm_runtime" in text(task_role[0]["Resource"])


def test_cache_tls_auth_and_encryption(each_env: Synthesized) -> None:
    group = only(each_env.resources("data", "AWS::ElastiCache::ReplicationGroup"))["Properties"]
    assert group["TransitEncryptionEnabled"] is True and group["TransitEncryptionMode"] == "required"
    assert group["AtRestEncryptionEnabled"] is True and "KmsKeyId" in group
    assert "resolve:secretsmanager" in text(group["AuthToken"])
    assert group["Engine"] == each_env.env.cache.engine
    failover = each_env.env.cache.replicas_per_shard > 0 and each_env.env.cache.multi_az
    assert group["AutomaticFailoverEnabled"] is failover and group["MultiAZEnabled"] is failover


def test_multi_az_failover_outside_dev(synthesized: dict[str, Synthesized]) -> None:
    for name in ("staging", "prod", "moat"):
        group = only(synthesized[name].resources("data", "AWS::ElastiCache::ReplicationGroup"))["Properties"]
        assert group["MultiAZEnabled"] is True, name
    dev = only(synthesized["dev"].resources("data", "AWS::ElastiCache::ReplicationGroup"))["Properties"]
    assert dev["MultiAZEnabled"] is False


def test_config_bucket_versioned_kms_tls_only_private_and_logged(each_env: Synthesized) -> None:
    t = template(each_env.stack("config"))
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like({"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "config-bucket/"}),
        },
    )
    policies = each_env.resources("config", "AWS::S3::BucketPolicy")
    denies = [s for s in statements(policies) if s["Effect"] == "Deny"]
    assert any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies)
    assert each_env.resources("config", "Custom::CDKBucketDeployment")
