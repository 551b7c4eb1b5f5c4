"""An existing EKS cluster and existing data stores (issue 18): what a platform team hands gatekit instead of letting
it create them. Every field is a literal id, name, endpoint or ARN, so synthesis stays offline and credential-free
(no lookups). Cross-field rules live in `gatekit.config.estate_existing_checks`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gatekit.config.gateway import Strict

SECURITY_GROUP = r"^sg-[0-9a-f]{8,17}$"
# A complete Secrets Manager ARN (with the 6-character suffix): IAM then grants exactly that secret.
SECRET_ARN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"
KMS_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$"
HOSTNAME = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
SecurityGroupId = Annotated[str, Field(pattern=SECURITY_GROUP)]


class ExistingEksCluster(Strict):
    """An EKS cluster another team runs: gatekit imports it by name (no lookups), applies only namespaced resources
    (ServiceAccount, ConfigMaps, SecretProviderClass, Deployment, Service, HPA, PDB, NetworkPolicy) through the
    kubectl role, and creates only the gateway's IAM role (IRSA or an EKS Pod Identity association). The cluster must
    already run the Secrets Store CSI driver with its AWS provider (syncSecret on) and metrics-server; with
    `pod_identity`, also the eks-pod-identity-agent add-on."""

    name: str = Field(pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", description="The EKS cluster name.")
    kubectl_role_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
        description="IAM role gatekit's kubectl handler assumes; an access entry of the cluster must let it manage "
        "the resources of `kubernetes.namespace`.",
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[0-9A-F]+$",
        description="The cluster's IAM OIDC provider: the gateway's service account assumes its role through IRSA. "
        "Exactly one of this and `pod_identity`.",
    )
    pod_identity: bool = Field(
        default=False, description="Use EKS Pod Identity (the cluster runs the eks-pod-identity-agent add-on)."
    )
    security_group_id: str = Field(
        pattern=SECURITY_GROUP,
        description="The cluster security group: gateway pods (managed nodes) carry it, the data stores admit it, and "
        "the kubectl handler runs with it in network.existing's private subnets when the API endpoint is private.",
    )
    endpoint_access: Literal["private", "public"] = Field(
        default="private",
        description="How the kubectl handler reaches the API server: private (in the VPC) or public endpoint.",
    )
    create_namespace: bool = Field(
        default=False,
        description="Create `kubernetes.namespace` (a cluster-scoped object); off: the cluster's owners create it.",
    )


class ExistingAurora(Strict):
    """An Aurora PostgreSQL cluster the estate runs. gatekit creates its runtime role in it with the same SQL as for
    its own cluster (through the RDS Data API, as the admin user of `admin_secret_arn`), and its migrations task
    connects as that admin user. The cluster must have IAM database authentication and the Data API enabled."""

    cluster_identifier: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="DB cluster identifier.")
    cluster_resource_id: str = Field(
        pattern=r"^cluster-[A-Z0-9]{10,40}$",
        description="The cluster's resource id (`cluster-…`): the runtime user's rds-db:connect ARN names it.",
    )
    endpoint: str = Field(pattern=HOSTNAME, description="The writer (cluster) endpoint host name.")
    port: int = Field(default=5432, ge=1, le=65535)
    database_name: str = Field(default="litellm", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    admin_secret_arn: str = Field(
        pattern=SECRET_ARN,
        description="Secrets Manager secret of an admin user (JSON with `username` and `password`, as RDS manages "
        "it) that owns `database_name` and may create roles: the migrations task and the runtime-role SQL use it.",
    )
    secret_kms_key_arn: str | None = Field(
        default=None,
        pattern=KMS_KEY_ARN,
        description="Customer-managed key of that secret (empty: the account's aws/secretsmanager key).",
    )
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list,
        description="The cluster's security groups: gatekit adds an ingress rule from the gateway to each. Empty: "
        "the estate admits the gateway's security group itself (output GatewaySecurityGroupId).",
    )


class ExistingCache(Strict):
    """An ElastiCache (Valkey / Redis OSS) replication group with in-transit encryption and an AUTH token."""

    replication_group_id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    endpoint: str = Field(pattern=HOSTNAME, description="The primary endpoint host name.")
    port: int = Field(default=6379, ge=1, le=65535)
    auth_token_secret_arn: str = Field(
        pattern=SECRET_ARN, description="Secrets Manager secret whose plain value is the AUTH token."
    )
    secret_kms_key_arn: str | None = Field(
        default=None,
        pattern=KMS_KEY_ARN,
        description="Customer-managed key of that secret (empty: the account's aws/secretsmanager key).",
    )
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list,
        description="The replication group's security groups: gatekit adds an ingress rule from the gateway to each. "
        "Empty: the estate admits the gateway's security group itself.",
    )
