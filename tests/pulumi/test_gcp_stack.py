"""The gcp stack under mocks: GKE, Cloud SQL, Memorystore, GCS, Secret Manager, Workload Identity, Cloud Trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml

from gatekit.clouds import gcp
from gatekit.clouds.common import config_document
from gatekit.clouds.plan import PLACEHOLDER_SECRET, Plan, run_plan
from gatekit.clouds.policy import Secret
from tests.pulumi.conftest import PROJECT, environment, manifest, one, resources, use_mocks

Plans = Callable[[str], Plan]


@pytest.fixture(scope="module")
def plan(plan_for: Plans) -> Plan:
    return plan_for("gcp")


def test_outputs_resolve_to_the_config_bucket_and_secret_versions() -> None:
    mocks = use_mocks("gcp")
    env = environment("gcp")
    assert env.gcp is not None
    project = env.gcp.project

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        out = gcp.deploy(env)

        def verify(args: list[Any]) -> None:
            uri, secrets = args
            assert uri.startswith("gs://") and uri.endswith("/environment.json")
            assert secrets and all(s.startswith(f"projects/{project}/secrets/gk-gcp-") for s in secrets)
            assert all(s.endswith("/versions/latest") for s in secrets)

        return pulumi.Output.all(out["config_uri"], out["secrets"]).apply(verify)

    check()
    assert any(r.type == "gcp:container/cluster:Cluster" for r in mocks.resources)


def test_cloud_sql_is_private_tls_only_with_backups_pitr_and_protection(plan: Plan) -> None:
    sql = one(plan, "gcp:sql/databaseInstance:DatabaseInstance")
    ip = sql["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"]
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    backups = sql["settings"]["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert backups["backupRetentionSettings"]["retainedBackups"] == plan.environment.database.backup_retention_days
    assert sql["deletionProtection"] is True
    assert sql["settings"]["availabilityType"] == "REGIONAL"
    assert isinstance(one(plan, "gcp:sql/user:User")["password"], Secret)


def test_deletion_protection_follows_the_config() -> None:
    plan = run_plan("gcp", PROJECT, ("database.deletion_protection=false",))
    sql = one(plan, "gcp:sql/databaseInstance:DatabaseInstance")
    assert sql["deletionProtection"] is False
    assert sql["settings"]["availabilityType"] == "ZONAL"
    assert one(plan, "gcp:storage/bucket:Bucket")["forceDestroy"] is True


def test_memorystore_has_tls_and_auth_on_the_private_network(plan: Plan) -> None:
    redis = one(plan, "gcp:redis/instance:Instance")
    assert redis["authEnabled"] is True
    assert redis["transitEncryptionMode"] == "SERVER_AUTHENTICATION"
    assert redis["connectMode"] == "PRIVATE_SERVICE_ACCESS"
    config = manifest(plan, "kubernetes:core/v1:ConfigMap", "-gateway-config")
    assert config["data"]["redis-ca.pem"] == "mock-ca"  # the server CA the client verifies against


def test_config_bucket_is_versioned_uniform_and_holds_the_sync_document(plan: Plan) -> None:
    bucket = one(plan, "gcp:storage/bucket:Bucket")
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["publicAccessPrevention"] == "enforced"
    obj = one(plan, "gcp:storage/bucketObject:BucketObject")
    content = obj["content"].value if isinstance(obj["content"], Secret) else obj["content"]  # the SDK marks it
    assert content == config_document(plan.environment)
    assert obj["name"] == "environment.json" and obj["contentType"] == "application/json"


def test_secret_manager_holds_a_version_of_every_secret(plan: Plan) -> None:
    secret_ids = {r.inputs["secretId"] for r in resources(plan, "gcp:secretmanager/secret:Secret")}
    assert secret_ids == {
        "gk-gcp-master-key",
        "gk-gcp-salt-key",
        "gk-gcp-openai-api-key",
        "gk-gcp-database-url",
        "gk-gcp-redis-url",
    }
    versions = resources(plan, "gcp:secretmanager/secretVersion:SecretVersion")
    assert {v.name for v in versions} == {f"gk-gcp-secret-{s}-v" for s in secret_ids}
    data = {v.name: v.inputs["secretData"] for v in versions}
    assert all(isinstance(d, Secret) for d in data.values())
    assert data["gk-gcp-secret-gk-gcp-database-url-v"].value.startswith("postgresql://")
    assert data["gk-gcp-secret-gk-gcp-redis-url-v"].value.startswith("rediss://")
    assert data["gk-gcp-secret-gk-gcp-master-key-v"].value == PLACEHOLDER_SECRET  # the operator's, as stack config


def test_workload_identity_grants_only_the_gateway_service_account(plan: Plan) -> None:
    env = plan.environment
    assert env.gcp is not None
    cluster = one(plan, "gcp:container/cluster:Cluster")
    assert cluster["workloadIdentityConfig"] == {"workloadPool": f"{env.gcp.project}.svc.id.goog"}
    assert cluster["secretSyncConfig"]["enabled"] is True
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["databaseEncryption"]["state"] == "ENCRYPTED"
    pool = one(plan, "gcp:container/nodePool:NodePool")
    assert pool["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert pool["autoscaling"]["totalMaxNodeCount"] == env.kubernetes.node_count_max
    subject = f"subject/ns/{env.kubernetes.namespace}/sa/{env.deployment.prefix}-gateway"
    readers = resources(plan, "gcp:secretmanager/secretIamMember:SecretIamMember")
    assert len(readers) == 5
    for reader in readers:
        assert reader.inputs["role"] == "roles/secretmanager.secretAccessor"
        assert reader.inputs["member"].endswith(subject)
    roles = {r.inputs["role"]: r.inputs["member"] for r in resources(plan, "gcp:projects/iAMMember:IAMMember")}
    assert roles["roles/cloudtrace.agent"].endswith(subject)
    assert "roles/owner" not in roles and "roles/editor" not in roles


def test_gateway_syncs_secrets_and_traces_to_cloud_trace(plan: Plan) -> None:
    sync = manifest(plan, "kubernetes:secret-sync.gke.io/v1:SecretSync")
    assert sync["spec"]["serviceAccountName"] == "gk-gcp-gateway"
    deployment = manifest(plan, "kubernetes:apps/v1:Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 70
    gateway = pod["containers"][0]
    assert gateway["image"] == plan.environment.compute.image
    refs = {e["name"]: e["valueFrom"] for e in gateway["env"] if "valueFrom" in e}
    assert refs["DATABASE_URL"] == {"secretKeyRef": {"name": "gk-gcp-gateway-secrets", "key": "DATABASE_URL"}}
    collector = yaml.safe_load(
        manifest(plan, "kubernetes:core/v1:ConfigMap", "otel-collector")["data"]["collector.yaml"]
    )
    assert collector["exporters"] == {"googlecloud": {"project": plan.environment.gcp.project}}  # type: ignore[union-attr]
    service = manifest(plan, "kubernetes:core/v1:Service")  # NEG backends of the internal HTTPS load balancer
    assert service["spec"]["type"] == "ClusterIP"
    assert service["metadata"]["annotations"] == {"cloud.google.com/neg": '{"ingress": true}'}


def test_gcp_plan_is_policy_clean(plan: Plan) -> None:
    assert plan.violations == []
    assert len(plan.resources) > 50
