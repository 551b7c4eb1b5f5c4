"""The azure stack under mocks: AKS, PostgreSQL Flexible Server, Azure Cache for Redis, Blob, Key Vault,
workload identity, Azure Monitor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml

from gatekit.clouds import azure
from gatekit.clouds.plan import Plan
from gatekit.clouds.policy import Secret
from tests.pulumi.conftest import environment, manifest, one, resources, use_mocks

Plans = Callable[[str], Plan]


@pytest.fixture(scope="module")
def plan(plan_for: Plans) -> Plan:
    return plan_for("azure")


def test_outputs_resolve_to_the_config_blob() -> None:
    use_mocks("azure")
    env = environment("azure")

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        out = azure.deploy(env)

        def verify(args: list[Any]) -> None:
            uri, namespace = args
            assert uri.startswith("https://") and uri.endswith("/environment.json")
            assert namespace == env.kubernetes.namespace

        return pulumi.Output.all(out["config_uri"], out["namespace"]).apply(verify)

    check()


def test_postgres_is_private_tls_only_backed_up_and_protected(plan: Plan) -> None:
    server = one(plan, "azure-native:dbforpostgresql:Server")
    assert server["network"]["publicNetworkAccess"] == "Disabled"
    assert server["network"]["delegatedSubnetResourceId"].endswith("/subnets/postgres")
    assert server["backup"]["backupRetentionDays"] == plan.environment.database.backup_retention_days
    assert server["highAvailability"] == {"mode": "ZoneRedundant"}
    assert isinstance(server["administratorLoginPassword"], Secret)
    tls = one(plan, "azure-native:dbforpostgresql:Configuration")
    assert (tls["configurationName"], tls["value"]) == ("require_secure_transport", "on")
    assert one(plan, "azure-native:authorization:ManagementLockByScope")["level"] == "CanNotDelete"


def test_redis_is_tls_only_behind_a_private_endpoint(plan: Plan) -> None:
    redis = one(plan, "azure-native:redis:Redis")
    assert redis["enableNonSslPort"] is False
    assert redis["minimumTlsVersion"] == "1.2"
    assert redis["publicNetworkAccess"] == "Disabled"
    groups = {
        r.name: r.inputs["privateLinkServiceConnections"][0]["groupIds"]
        for r in resources(plan, "azure-native:network:PrivateEndpoint")
    }
    assert groups["gk-az-redis-endpoint"] == ["redisCache"]


def test_config_storage_is_https_only_private_and_versioned(plan: Plan) -> None:
    account = one(plan, "azure-native:storage:StorageAccount")
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert one(plan, "azure-native:storage:BlobServiceProperties")["isVersioningEnabled"] is True
    assert one(plan, "azure-native:storage:BlobContainer")["publicAccess"] == "None"
    assert one(plan, "azure-native:storage:Blob")["blobName"] == "environment.json"


def test_key_vault_holds_every_secret_the_gateway_reads_as_pulumi_secrets(plan: Plan) -> None:
    vault = one(plan, "azure-native:keyvault:Vault")
    assert vault["properties"]["enableRbacAuthorization"] is True
    assert vault["properties"]["enablePurgeProtection"] is True
    secrets = resources(plan, "azure-native:keyvault:Secret")
    assert {s.inputs["secretName"] for s in secrets} == {
        "gk-az-database-url",
        "gk-az-redis-url",
        "gk-az-applicationinsights-connection-string",
        "gk-az-master-key",  # the operator's, from `gatekit-secrets:*` stack config
        "gk-az-salt-key",
        "gk-az-openai-api-key",
    }
    for secret in secrets:
        properties = secret.inputs["properties"]  # a secret nested in an object makes the whole object secret
        assert isinstance(properties, Secret)
        assert properties.value["value"]


def test_workload_identity_federates_the_gateway_service_account(plan: Plan) -> None:
    cluster = one(plan, "azure-native:containerservice:ManagedCluster")
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert cluster["addonProfiles"]["azureKeyvaultSecretsProvider"]["enabled"] is True
    assert cluster["disableLocalAccounts"] is True
    federation = one(plan, "azure-native:managedidentity:FederatedIdentityCredential")
    assert federation["subject"] == "system:serviceaccount:gatekit:gk-az-gateway"
    roles = {
        r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        for r in resources(plan, "azure-native:authorization:RoleAssignment")
    }
    assert roles == {
        "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User (gateway)
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",  # Storage Blob Data Reader (gateway)
        "4d97b98b-1d4f-4787-a291-c67834d212e7",  # Network Contributor (cluster, on its VNet)
        "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",  # AKS RBAC Cluster Admin (the deployer, on the cluster)
    }
    account = manifest(plan, "kubernetes:core/v1:ServiceAccount")
    assert set(account["metadata"]["annotations"]) == {"azure.workload.identity/client-id"}
    pod = manifest(plan, "kubernetes:apps/v1:Deployment")["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_secrets_come_from_key_vault_and_traces_go_to_azure_monitor(plan: Plan) -> None:
    spc = manifest(plan, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    assert spc["spec"]["provider"] == "azure"
    assert {"keyvaultName", "tenantId", "clientID", "objects"} <= set(spc["spec"]["parameters"])
    objects = [yaml.safe_load(o) for o in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]]
    assert {o["objectAlias"] for o in objects} >= {"DATABASE_URL", "REDIS_URL", "APPLICATIONINSIGHTS_CONNECTION_STRING"}
    collector = manifest(plan, "kubernetes:core/v1:ConfigMap", "otel-collector")
    assert "azuremonitor" in yaml.safe_load(collector["data"]["collector.yaml"])["exporters"]
    service = manifest(plan, "kubernetes:core/v1:Service")  # behind application routing's TLS Ingress (issue 12)
    assert service["spec"]["type"] == "ClusterIP" and service["metadata"]["annotations"] == {}


def test_azure_plan_is_policy_clean(plan: Plan) -> None:
    assert plan.violations == []
