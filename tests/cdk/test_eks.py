"""Target aws-eks: the gateway manifests come from the shared Kubernetes renderer and are applied to a private EKS
cluster with Pod Identity, the Secrets Store CSI driver and an X-Ray collector."""

from __future__ import annotations

from gatekit.render.env import render_environment
from tests.cdk.conftest import Synthesized
from tests.cdk.helpers import only, text


def _manifest_text(eks: Synthesized) -> str:
    """The literal parts of the applied manifest list (a JSON string with CloudFormation tokens joined in)."""
    resources = eks.resources("gateway", "Custom::AWSCDK-EKS-KubernetesResource")
    gateway = only({lid: r for lid, r in resources.items() if "manifestGateway" in lid})
    manifest = gateway["Properties"]["Manifest"]
    literal = "".join(part for part in manifest["Fn::Join"][1] if isinstance(part, str))
    assert literal.startswith("[")
    return literal


def test_eks_stacks_have_no_ecs_gateway(synthesized: dict[str, Synthesized]) -> None:
    eks = synthesized["eks"]
    assert set(eks.templates) == {
        f"gk-eks-{part}" for part in ("network", "secrets", "data", "config", "observability", "gateway")
    }
    assert not eks.resources("gateway", "AWS::ECS::Service")


def test_cluster_is_private_encrypted_and_logged(synthesized: dict[str, Synthesized]) -> None:
    cluster = only(synthesized["eks"].resources("gateway", "Custom::AWSCDK-EKS-Cluster"))["Properties"]["Config"]
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["endpointPublicAccess"] is False and vpc["endpointPrivateAccess"] is True
    assert cluster["encryptionConfig"][0]["resources"] == ["secrets"]
    assert {t for entry in cluster["logging"]["clusterLogging"] for t in entry["types"]} >= {"api", "audit"}
    assert cluster["version"] == synthesized["eks"].env.kubernetes.version


def test_managed_node_group_and_addons(synthesized: dict[str, Synthesized]) -> None:
    eks = synthesized["eks"]
    k8s = eks.env.kubernetes
    nodes = only(eks.resources("gateway", "AWS::EKS::Nodegroup"))["Properties"]["ScalingConfig"]
    assert nodes["MinSize"] == k8s.node_count_min and nodes["MaxSize"] == k8s.node_count_max
    addons = {a["Properties"]["AddonName"] for a in eks.resources("gateway", "AWS::EKS::Addon").values()}
    assert {"eks-pod-identity-agent", "aws-secrets-store-csi-driver-provider", "metrics-server", "vpc-cni"} <= addons


def test_pod_identity_for_the_gateway_service_account(synthesized: dict[str, Synthesized]) -> None:
    eks = synthesized["eks"]
    association = only(eks.resources("gateway", "AWS::EKS::PodIdentityAssociation"))["Properties"]
    assert association["ServiceAccount"] == "gk-eks-gateway"
    assert association["Namespace"] == eks.env.kubernetes.namespace
    role_id = association["RoleArn"]["Fn::GetAtt"][0]
    trust = eks.resources("gateway")[role_id]["Properties"]["AssumeRolePolicyDocument"]
    assert "pods.eks.amazonaws.com" in text(trust) and "sts:TagSession" in text(trust)


def test_manifests_from_the_shared_renderer_with_secrets_by_reference(synthesized: dict[str, Synthesized]) -> None:
    eks = synthesized["eks"]
    raw = _manifest_text(eks)
    for kind in (
        '"kind":"Deployment"',
        '"kind":"Service"',
        '"kind":"HorizontalPodAutoscaler"',
        '"kind":"PodDisruptionBudget"',
        '"kind":"NetworkPolicy"',
        '"kind":"SecretProviderClass"',
    ):
        assert kind in raw, kind
    assert "awsxray" in raw and '"provider":"aws"' in raw
    for env_var in (*render_environment(eks.env).secrets, "REDIS_PASSWORD"):
        assert f'"name":"{env_var}","valueFrom":{{"secretKeyRef"' in raw, env_var
    assert "usePodIdentity" in raw
    assert "IAM_TOKEN_DB_AUTH" in raw


def test_manifest_holds_no_secret_values(synthesized: dict[str, Synthesized]) -> None:
    raw = _manifest_text(synthesized["eks"])
    assert "resolve:secretsmanager" not in raw and "SecretString" not in raw
    assert '"kind":"Secret"' not in raw


def test_runtime_user_may_migrate_only_where_it_runs_the_migrations(synthesized: dict[str, Synthesized]) -> None:
    """ECS migrates in its own task as the admin user: the runtime user has no DDL. EKS migrates in the pod's init
    container with the pod's identity (the runtime user), which therefore may create in the schema."""

    def runtime_user_sql(item: Synthesized) -> str:
        return text(only(item.resources("data", "Custom::AWS"))["Properties"]["Create"])

    eks, staging = runtime_user_sql(synthesized["eks"]), runtime_user_sql(synthesized["staging"])
    assert "GRANT CREATE ON SCHEMA public TO litellm_runtime" in eks
    assert "GRANT rds_iam TO litellm_runtime" in staging and "CREATE ON SCHEMA" not in staging
