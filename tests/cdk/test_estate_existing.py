"""An existing EKS cluster and existing data stores (issue 18), read from the session synth of the `estate-data` (ECS)
and `estate-cluster` (EKS, IRSA) variants (tests/cdk/estate_variants.py): nothing of the estate's is created, the
gateway reads exactly the given secrets, IAM is scoped to them, and only namespaced manifests are applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cdk.database import RUNTIME_MIGRATES_SQL, RUNTIME_USER_SQL
from gatekit.config import default_config_dir, load_environment
from tests.cdk.conftest import Synthesized
from tests.cdk.estate_variants import (
    CACHE_SECRET_ARN,
    CACHE_SG,
    CLUSTER_SG,
    DB_RESOURCE_ID,
    DB_SECRET_ARN,
    DB_SG,
    ESTATE_VARIANTS,
    EXISTING_CLUSTER,
    KUBECTL_ROLE,
    OIDC_ARN,
    SECRETS_KEY_ARN,
    existing_cache,
    existing_database,
)
from tests.cdk.helpers import containers, only, statements, task_with, text

CREATED_STORE_TYPES = {
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
}
CREATED_CLUSTER_TYPES = {
    "AWS::EKS::Cluster",
    "AWS::EKS::Nodegroup",
    "AWS::EKS::Addon",
    "AWS::EKS::PodIdentityAssociation",
    "Custom::AWSCDK-EKS-Cluster",
}
# Kubernetes kinds that live in a namespace (everything gatekit may apply to a cluster it does not own).
NAMESPACED_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "SecretProviderClass",
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "PodMonitor",
    "PrometheusRule",
}
DB_ENDPOINT = str(existing_database([])["endpoint"])
CACHE_ENDPOINT = str(existing_cache([])["endpoint"])


def _flat(value: Any) -> str:
    """A Fn::Join of literals and tokens as one string (tokens as `<token>`)."""
    if isinstance(value, str):
        return value
    sep, parts = value["Fn::Join"]
    return sep.join(p if isinstance(p, str) else "<token>" for p in parts)


def _manifests(item: Synthesized) -> list[dict[str, Any]]:
    applied = only(item.resources("gateway", "Custom::AWSCDK-EKS-KubernetesResource"))
    return list(json.loads(_flat(applied["Properties"]["Manifest"])))


def _runtime_user_call(item: Synthesized) -> dict[str, Any]:
    resource = next(v for k, v in item.resources("data", "Custom::AWS").items() if "RuntimeUser" in k)
    return dict(json.loads(_flat(resource["Properties"]["Create"]).replace("<token>", "aws")))


def test_existing_data_stores_are_used_not_created(synthesized: dict[str, Synthesized]) -> None:
    for name in ("estate-data", "estate-cluster"):
        item = synthesized[name]
        created = {r["Type"] for _, _, r in item.all_resources()}
        assert not created & CREATED_STORE_TYPES, name
        # No AUTH token secret of gatekit's own: the estate's is read.
        names = [
            text(r["Properties"].get("Name", ""))
            for r in item.resources("data", "AWS::SecretsManager::Secret").values()
        ]
        assert not any("cache-auth-token" in n for n in names), name
    definitions = synthesized["estate-data"].resources("gateway", "AWS::ECS::TaskDefinition")
    gateway = containers(task_with(definitions, "gateway"))["gateway"]
    env = {e["Name"]: e["Value"] for e in gateway["Environment"]}
    assert env["DATABASE_HOST"] == DB_ENDPOINT and env["REDIS_HOST"] == CACHE_ENDPOINT
    assert env["DATABASE_PORT"] == "5432" and env["REDIS_PORT"] == "6379"
    secrets = {s["Name"]: s["ValueFrom"] for s in gateway["Secrets"]}
    assert secrets["REDIS_PASSWORD"] == CACHE_SECRET_ARN
    assert "DATABASE_PASSWORD" not in secrets  # IAM token auth as the runtime user
    migrations = containers(task_with(definitions, "migrations"))["migrations"]
    admin = {s["Name"]: s["ValueFrom"] for s in migrations["Secrets"]}
    assert admin == {
        "DATABASE_USERNAME": f"{DB_SECRET_ARN}:username::",
        "DATABASE_PASSWORD": f"{DB_SECRET_ARN}:password::",
    }


def test_runtime_role_is_created_by_gatekit_sql_as_the_given_admin(synthesized: dict[str, Synthesized]) -> None:
    for name, sql in (
        ("estate-data", RUNTIME_USER_SQL),
        ("estate-cluster", RUNTIME_USER_SQL.replace("END $$;", f"  {RUNTIME_MIGRATES_SQL}\nEND $$;")),
    ):
        item = synthesized[name]
        create = _runtime_user_call(item)
        params = create["parameters"]
        assert (create["service"], create["action"]) == ("rds-data", "ExecuteStatement")
        assert params["resourceArn"].endswith(":rds:us-east-1:aws:cluster:estate-aurora")
        assert params["secretArn"] == DB_SECRET_ARN and params["sql"] == sql and params["database"] == "litellm"
        policies = [
            s
            for s in statements(item.resources("data", "AWS::IAM::Policy"))
            if "secretsmanager:GetSecretValue" in text(s)
        ]
        assert [s["Resource"] for s in policies] == [DB_SECRET_ARN], name
        kms = [s for s in statements(item.resources("data", "AWS::IAM::Policy")) if s["Action"] == "kms:Decrypt"]
        assert [s["Resource"] for s in kms] == [SECRETS_KEY_ARN] and "kms:ViaService" in text(kms)


def _secret_resources(policies: dict[str, dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for statement in statements(policies):
        if "secretsmanager:GetSecretValue" in text(statement["Action"]):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            found += [r if isinstance(r, str) else _flat(r) for r in resources]
    return found


def test_iam_reads_exactly_the_given_secrets(synthesized: dict[str, Synthesized]) -> None:
    item = synthesized["estate-data"]
    policies = item.resources("gateway", "AWS::IAM::Policy")
    by_role = {k: v for k, v in policies.items()}
    migrations = {k: v for k, v in by_role.items() if k.startswith("MigrationsDefinitionExecutionRole")}
    assert _secret_resources(migrations) == [DB_SECRET_ARN]
    gateway_exec = {k: v for k, v in by_role.items() if k.startswith("TaskDefinitionExecutionRole")}
    read = _secret_resources(gateway_exec)
    assert CACHE_SECRET_ARN in read and DB_SECRET_ARN not in read
    assert all("*" not in r.replace("-??????", "") for r in read)
    # The runtime user connects with an IAM token to the given cluster only.
    connect = [s for s in statements(policies) if s["Action"] == "rds-db:connect"]
    assert len(connect) == 1 and _flat(connect[0]["Resource"]).endswith(f":dbuser:{DB_RESOURCE_ID}/litellm_runtime")
    # The estate's admin secret is encrypted with its own key: decrypt only through Secrets Manager.
    kms = [s for s in statements(migrations) if s["Action"] == "kms:Decrypt"]
    assert SECRETS_KEY_ARN in text(kms) and "secretsmanager.us-east-1.amazonaws.com" in text(kms)
    # EKS: the pod role reads the estate's cache token (CSI driver) and connects as the runtime user.
    eks = synthesized["estate-cluster"].resources("gateway", "AWS::IAM::Policy")
    pod_policy = {k: v for k, v in eks.items() if k.startswith("GatewayRole")}
    assert CACHE_SECRET_ARN in _secret_resources(pod_policy)
    assert f"{DB_RESOURCE_ID}/litellm_runtime" in text(pod_policy)


def _rules(item: Synthesized, part: str, type_: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in item.resources(part, type_).values()]


def test_gateway_is_admitted_on_the_given_security_groups(synthesized: dict[str, Synthesized]) -> None:
    ecs = synthesized["estate-data"]
    # Rules on the estate's groups name them literally (gatekit's own groups are GetAtt references).
    ingress = {
        (r["GroupId"], r["FromPort"]): r
        for r in _rules(ecs, "network", "AWS::EC2::SecurityGroupIngress")
        if isinstance(r["GroupId"], str)
    }
    assert set(ingress) == {(DB_SG, 5432), (CACHE_SG, 6379)}
    assert all("ServiceSg" in text(r["SourceSecurityGroupId"]) for r in ingress.values())
    egress = {
        (r["DestinationSecurityGroupId"], r["FromPort"])
        for r in _rules(ecs, "network", "AWS::EC2::SecurityGroupEgress")
        if isinstance(r.get("DestinationSecurityGroupId"), str)
    }
    assert egress == {(DB_SG, 5432), (CACHE_SG, 6379)}
    assert "GatewaySecurityGroupId" in ecs.stack("data")["Outputs"]
    eks = synthesized["estate-cluster"]
    admitted = [r for r in _rules(eks, "gateway", "AWS::EC2::SecurityGroupIngress") if isinstance(r["GroupId"], str)]
    # The database's group admits the cluster's pods; the cache gave no group (the estate admits them itself).
    assert [(r["GroupId"], r["SourceSecurityGroupId"], r["FromPort"]) for r in admitted] == [(DB_SG, CLUSTER_SG, 5432)]


def test_existing_cluster_gets_only_namespaced_manifests_and_the_gateway_role(
    synthesized: dict[str, Synthesized],
) -> None:
    item = synthesized["estate-cluster"]
    created = {r["Type"] for _, _, r in item.all_resources()}
    assert not created & CREATED_CLUSTER_TYPES
    assert not {r["Type"] for r in item.resources("network").values()} & {"AWS::EC2::VPC", "AWS::EC2::Subnet"}
    manifests = _manifests(item)
    kinds = {m["kind"] for m in manifests}
    assert kinds <= NAMESPACED_KINDS and {"Deployment", "ServiceAccount", "SecretProviderClass"} <= kinds
    assert all(m["metadata"]["namespace"] == item.env.kubernetes.namespace for m in manifests)
    applied = only(item.resources("gateway", "Custom::AWSCDK-EKS-KubernetesResource"))["Properties"]
    assert applied["ClusterName"] == "platform-shared" and applied["RoleArn"] == KUBECTL_ROLE
    # IRSA: the service account names the role; the role trusts exactly that service account of the cluster's issuer.
    account = next(m for m in manifests if m["kind"] == "ServiceAccount")
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "<token>"}
    role = next(r for k, r in item.resources("gateway", "AWS::IAM::Role").items() if k.startswith("GatewayRole"))
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    issuer = OIDC_ARN.split(":oidc-provider/")[1]
    assert trust["Principal"] == {"Federated": OIDC_ARN} and trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        f"{issuer}:sub": f"system:serviceaccount:{item.env.kubernetes.namespace}:gk-est4-gateway",
        f"{issuer}:aud": "sts.amazonaws.com",
    }
    provider = next(m for m in manifests if m["kind"] == "SecretProviderClass")
    assert "usePodIdentity" not in provider["spec"]["parameters"]  # the AWS provider then uses IRSA
    # The kubectl handler runs next to the private API endpoint, and may assume the given kubectl role only.
    (nested_file,) = item.outdir.glob("*KubectlProvider*.nested.template.json")
    nested = json.loads(nested_file.read_text())
    handlers = [r for r in nested["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    subnets = sorted(s.id for s in item.env.network.existing.private_subnets)  # type: ignore[union-attr]
    assert handlers and all(
        h["Properties"]["VpcConfig"] == {"SecurityGroupIds": [CLUSTER_SG], "SubnetIds": subnets} for h in handlers
    )
    assumes = [
        s
        for s in statements({k: r for k, r in nested["Resources"].items() if r["Type"] == "AWS::IAM::Policy"})
        if s["Action"] == "sts:AssumeRole"
    ]
    assert [s["Resource"] for s in assumes] == [KUBECTL_ROLE]


def test_existing_cluster_with_pod_identity(tmp_path: Path) -> None:
    """The other identity: an association on the existing cluster, no service-account annotation, the CSI driver's
    AWS provider told to use Pod Identity. (nag off: the linters' tests cover the IRSA variant's templates.)"""
    from cdk.app_builder import synth_environment

    base, overrides = ESTATE_VARIANTS["estate-cluster"]
    cluster = {**EXISTING_CLUSTER, "oidc_provider_arn": None, "pod_identity": True}
    env = load_environment(base, default_config_dir(), [*overrides, f"kubernetes.existing={json.dumps(cluster)}"])
    result = synth_environment(env, tmp_path, nag=False)
    gateway = json.loads(result.templates["gk-est4-gateway"].read_text())["Resources"]
    (association,) = [r["Properties"] for r in gateway.values() if r["Type"] == "AWS::EKS::PodIdentityAssociation"]
    assert association["ClusterName"] == "platform-shared"
    assert (association["Namespace"], association["ServiceAccount"]) == ("gatekit", "gk-est4-gateway")
    assert not {r["Type"] for r in gateway.values()} & (CREATED_CLUSTER_TYPES - {"AWS::EKS::PodIdentityAssociation"})
    role = next(r for k, r in gateway.items() if k.startswith("GatewayRole") and r["Type"] == "AWS::IAM::Role")
    assert "pods.eks.amazonaws.com" in text(role) and "Federated" not in text(role)
    applied = next(r for r in gateway.values() if r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource")
    manifests = json.loads(_flat(applied["Properties"]["Manifest"]))
    account = next(m for m in manifests if m["kind"] == "ServiceAccount")
    provider = next(m for m in manifests if m["kind"] == "SecretProviderClass")
    assert account["metadata"]["annotations"] == {} and provider["spec"]["parameters"]["usePodIdentity"] == "true"


def test_rehearsal_stands_in_for_the_existing_data_stores_on_ecs(synthesized: dict[str, Synthesized]) -> None:
    """The rehearsal's extraction of `estate-data` (ECS; its processes are those of every ECS rehearsal, so only
    `estate-cluster` runs them, in tests/rehearse/test_rehearse_estate.py): the runtime-role SQL runs as the user of
    the estate's admin secret, the tasks read the estate's secrets, and reach the local stand-ins instead of the
    estate's endpoints."""
    from gatekit.moat.lock import project_root
    from gatekit.rehearse.aws_target import prepare_ecs
    from gatekit.rehearse.aws_world import Endpoint
    from gatekit.rehearse.estate import ESTATE_ADMIN
    from gatekit.rehearse.image import read_image
    from gatekit.rehearse.services import moto_server

    item = synthesized["estate-data"]
    with moto_server() as moto:
        deployment, _ = prepare_ecs(
            item.env,
            item.outdir,
            moto_endpoint=moto,
            image=read_image(project_root() / "image" / "Dockerfile"),
            database=Endpoint("127.0.0.1", 1),
            cache=Endpoint("127.0.0.2", 2),
            cache_password="stand-in",
        )
    assert deployment.database is not None and deployment.database.admin_user == ESTATE_ADMIN
    (migrations,) = deployment.of_kind("migrations")
    assert {s.name for s in migrations.secret_env.values()} == {DB_SECRET_ARN}
    gateway = deployment.gateway()
    assert gateway.secret_env["REDIS_PASSWORD"].name == CACHE_SECRET_ARN
    assert (gateway.env["DATABASE_HOST"], gateway.env["DATABASE_PORT"]) == ("127.0.0.1", "1")
    assert (gateway.env["REDIS_HOST"], gateway.env["REDIS_PORT"]) == ("127.0.0.2", "2")
    reasons = {n.what for n in deployment.not_reproduced}
    assert {"existing VPC", "existing Aurora cluster", "existing ElastiCache", "IAM database authentication"} <= reasons
