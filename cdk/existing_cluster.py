"""An existing EKS cluster (config `kubernetes.existing`, issue 18), imported from literal attributes with
`Cluster.from_cluster_attributes`: no lookups, so synthesis stays offline and credential-free. gatekit creates no
cluster, node group or add-on there; it applies only the gateway's namespaced manifests through the given kubectl role
and creates the gateway's IAM role, assumed through IRSA (the cluster's OIDC provider) or EKS Pod Identity."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks as eks
from aws_cdk import aws_iam as iam
from aws_cdk.lambda_layer_kubectl_v33 import KubectlV33Layer
from constructs import Construct

from cdk.shared import as_interface, service_principal
from gatekit.config import Environment
from gatekit.config.estate_existing import ExistingEksCluster

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def existing_cluster(env: Environment) -> ExistingEksCluster | None:
    return env.kubernetes.existing if env.target == "aws-eks" else None


def import_cluster(scope: Construct, env: Environment, *, vpc: ec2.IVpc, private_subnet_ids: list[str]) -> eks.ICluster:
    """The estate's cluster. With a private API endpoint the kubectl handler runs in the existing VPC's private
    subnets with the cluster security group (which the control plane admits), as CDK does for clusters it creates."""
    existing = env.kubernetes.existing
    assert existing is not None
    private = existing.endpoint_access == "private"
    return eks.Cluster.from_cluster_attributes(
        scope,
        "Cluster",
        cluster_name=existing.name,
        vpc=vpc,
        kubectl_role_arn=existing.kubectl_role_arn,
        kubectl_layer=KubectlV33Layer(scope, "KubectlLayer"),
        cluster_security_group_id=existing.security_group_id,
        kubectl_security_group_id=existing.security_group_id if private else None,
        kubectl_private_subnet_ids=private_subnet_ids if private else None,
        open_id_connect_provider=(
            iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(scope, "Oidc", existing.oidc_provider_arn)
            if existing.oidc_provider_arn
            else None
        ),
        prune=False,  # never delete what gatekit did not apply (another team's objects share the cluster)
    )


def oidc_issuer(provider_arn: str) -> str:
    """`oidc.eks.<region>.amazonaws.com/id/<ID>`: the condition-key prefix of the provider's tokens."""
    return provider_arn.split(":oidc-provider/", 1)[1]


def workload_principal(env: Environment, service_account: str) -> iam.IPrincipal:
    """Who assumes the gateway role: EKS Pod Identity (the created cluster, or an existing one with `pod_identity`),
    or exactly the gateway's service account through the existing cluster's OIDC provider (IRSA)."""
    existing = existing_cluster(env)
    if existing is None or existing.pod_identity:
        return service_principal(POD_IDENTITY_PRINCIPAL)
    assert existing.oidc_provider_arn is not None
    issuer = oidc_issuer(existing.oidc_provider_arn)
    irsa = iam.FederatedPrincipal(
        existing.oidc_provider_arn,
        conditions={
            "StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{env.kubernetes.namespace}:{service_account}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }
        },
        assume_role_action="sts:AssumeRoleWithWebIdentity",
    )
    return as_interface(irsa, iam.IPrincipal)


def uses_pod_identity(env: Environment) -> bool:
    existing = existing_cluster(env)
    return existing is None or existing.pod_identity


def service_account_annotations(env: Environment, role: iam.IRole) -> dict[str, str]:
    """IRSA: the role the service account's web identity token assumes; Pod Identity needs no annotation."""
    return {} if uses_pod_identity(env) else {IRSA_ROLE_ANNOTATION: role.role_arn}


def creates_namespace(env: Environment) -> bool:
    existing = existing_cluster(env)
    return existing is None or existing.create_namespace
