"""Deploy-breaking defects of the Pulumi programs (issue 11), each checked on the plan the program really makes under
mocks: what the cloud would reject at create, what would hang or never converge, what would run in the wrong order."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime.config import set_all_config

from gatekit.clouds import program
from gatekit.clouds.azure import non_interactive
from gatekit.clouds.plan import MOCK_AKS_KUBECONFIG, Plan, PlannedResource, run_plan
from gatekit.clouds.program import unreachable_models
from gatekit.config import Environment
from tests.pulumi.conftest import CONFIG, PROJECT, environment, resources

Plans = Callable[[str], Plan]


def named(plan: Plan, typ: str, suffix: str = "") -> PlannedResource:
    found = [r for r in resources(plan, typ) if r.name.endswith(suffix)]
    assert len(found) == 1, (typ, suffix, [r.name for r in found])
    return found[0]


@pytest.fixture(scope="module")
def gcp_plan(plan_for: Plans) -> Plan:
    return plan_for("gcp")


@pytest.fixture(scope="module")
def azure_plan(plan_for: Plans) -> Plan:
    return plan_for("azure")


def test_cloud_sql_custom_tier_is_created_in_the_enterprise_edition(gcp_plan: Plan) -> None:
    settings = named(gcp_plan, "gcp:sql/databaseInstance:DatabaseInstance").inputs["settings"]
    assert settings["tier"].startswith("db-custom-")
    # POSTGRES_16 defaults to ENTERPRISE_PLUS, which rejects custom tiers at create.
    assert settings["edition"] == "ENTERPRISE"


def test_gke_cluster_waits_for_the_kms_grant_and_workload_identity_for_the_pool(gcp_plan: Plan) -> None:
    grant = named(gcp_plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    cluster = named(gcp_plan, "gcp:container/cluster:Cluster")
    assert grant.name in cluster.depends_on
    pool = named(gcp_plan, "gcp:container/nodePool:NodePool").name
    principal_grants = [
        *resources(gcp_plan, "gcp:secretmanager/secretIamMember:SecretIamMember"),
        named(gcp_plan, "gcp:storage/bucketIAMMember:BucketIAMMember"),
        *[r for r in resources(gcp_plan, "gcp:projects/iAMMember:IAMMember") if "principal://" in r.inputs["member"]],
    ]
    assert len(principal_grants) >= 7
    for binding in principal_grants:
        assert pool in binding.depends_on, binding.name


def test_operator_secrets_are_stored_by_the_same_up_from_secret_stack_config(gcp_plan: Plan, azure_plan: Plan) -> None:
    """Before: the secrets were created empty and the first install could not converge."""
    secrets = {r.inputs["secretId"] for r in resources(gcp_plan, "gcp:secretmanager/secret:Secret")}
    versions = {r.name for r in resources(gcp_plan, "gcp:secretmanager/secretVersion:SecretVersion")}
    assert {f"gk-gcp-secret-{s}-v" for s in secrets} == versions
    vault = {r.inputs["secretName"] for r in resources(azure_plan, "azure-native:keyvault:Secret")}
    assert {"gk-az-master-key", "gk-az-salt-key", "gk-az-openai-api-key"} <= vault


def test_a_missing_operator_secret_fails_the_up_and_names_the_config_command() -> None:
    with pytest.raises(Exception, match=r"pulumi config set --secret gatekit-secrets:GATEKIT_SECRET_MASTER_KEY"):
        run_plan("gcp", PROJECT, operator_secrets={})


def test_aks_kubeconfig_never_asks_for_a_device_code() -> None:
    original = base64.b64decode(MOCK_AKS_KUBECONFIG).decode()
    assert "devicecode" in original  # what AKS returns
    fixed = yaml.safe_load(non_interactive(original))
    exec_ = fixed["users"][0]["user"]["exec"]
    assert exec_["args"] == ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]
    assert exec_["interactiveMode"] == "Never"


def test_the_deployer_is_aks_rbac_admin_before_the_gateway_is_applied(azure_plan: Plan) -> None:
    admin = named(azure_plan, "azure-native:authorization:RoleAssignment", "-aks-deployer-admin")
    assert admin.inputs["roleDefinitionId"].endswith("/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")
    assert admin.inputs["principalId"] == "00000000-0000-0000-0000-000000000004"  # the deployer (client config)
    provider = named(azure_plan, "pulumi:providers:kubernetes")
    assert admin.name in provider.depends_on


def test_azure_postgres_waits_for_its_dns_zone_vnet_link(azure_plan: Plan) -> None:
    link = named(azure_plan, "azure-native:privatedns:VirtualNetworkLink", "-postgres-dns-link")
    assert link.name in named(azure_plan, "azure-native:dbforpostgresql:Server").depends_on


def test_azure_invokes_use_the_stacks_provider(azure_plan: Plan) -> None:
    tokens = {c.token: c.provider for c in azure_plan.calls}
    for token in (
        "azure-native:redis:listRedisKeys",
        "azure-native:containerservice:listManagedClusterUserCredentials",
        "azure-native:authorization:getClientConfig",
    ):
        assert token in tokens, sorted(tokens)
        assert "::gk-az-azure::" in tokens[token] and "default" not in tokens[token], (token, tokens[token])


def test_k8s_stack_leaves_the_namespace_to_the_operator(plan_for: Plans) -> None:
    plan = plan_for("k8s")
    assert not resources(plan, "kubernetes:core/v1:Namespace")
    namespaces = {r.inputs["metadata"]["namespace"] for r in plan.resources if r.type.startswith("kubernetes:")}
    assert namespaces == {plan.environment.kubernetes.namespace}


@pytest.mark.parametrize("stack", ["gcp", "azure", "k8s"])
def test_non_aws_environments_serve_no_bedrock_model(stack: str) -> None:
    env = environment(stack)
    models = [m.litellm_params.model for m in env.gateway.models if m.litellm_params]
    assert models and not [m for m in models if m.startswith("bedrock/")]
    assert unreachable_models(env) == []


def _stack_with(tmp_path: Path, litellm_params: str) -> Environment:
    """`program.stack_environment()` of stack k8s whose first model is `litellm_params` (a copied config dir)."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    k8s = config / "environments" / "k8s.yaml"
    first = "        model: openai/gpt-4o-mini\n        api_key: {secret: openai-api-key}\n"
    assert first in k8s.read_text()
    k8s.write_text(k8s.read_text().replace(first, litellm_params, 1))
    set_all_config({"gatekit:environment": "k8s", "gatekit:configDir": str(config)})
    return program.stack_environment()


def test_a_bedrock_model_without_aws_credentials_fails_the_program(tmp_path: Path) -> None:
    bedrock = "        model: bedrock/anthropic.claude-3-haiku\n        aws_region_name: us-east-1\n"
    with pytest.raises(pulumi.RunError, match=r"gateway\.models\.0 .*no AWS credentials"):
        _stack_with(tmp_path / "a", bedrock)
    keys = (
        "        aws_access_key_id: {secret: aws, key: id}\n        aws_secret_access_key: {secret: aws, key: secret}\n"
    )
    env = _stack_with(tmp_path / "b", bedrock + keys)
    assert env.gateway.models[0].litellm_params.model.startswith("bedrock/")  # type: ignore[union-attr]
