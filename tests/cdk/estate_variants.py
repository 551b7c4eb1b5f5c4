"""Synth variants of an existing estate (issue 18): two deployments into one existing three-AZ VPC.

- `estate`: ECS, isolated, a Bedrock model behind the `bedrock-runtime` endpoint, Graviton (arm64) tasks from a
  bring-your-own image that declares arm64; it creates the VPC endpoints the VPC lacks.
- `estate-eks`: EKS with arm64 nodes in the same VPC, private mode; it lists the first deployment's endpoints in
  `existing_endpoints`, so it creates none (two interface endpoints with private DNS for one service cannot coexist in
  a VPC), and every name is generated (no collisions).
- `estate-data`: ECS in the same VPC with the estate's Aurora cluster and ElastiCache replication group (nothing of
  either created; ingress added to the given security groups).
- `estate-cluster`: EKS into the estate's existing cluster (IRSA), with the same existing data stores; the cache gives
  no security group, so the estate admits the pods itself.
"""

from __future__ import annotations

import json

VPC_ID = "vpc-0a1b2c3d4e5f60718"
VPC_CIDR = "10.80.0.0/16"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
PREFIX_LIST = "pl-0123456789abcdef0"
ARM_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gatekit/gateway@sha256:" + "1" * 64
ENDPOINTS = [
    "s3",
    "secretsmanager",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "sts",
    "kms",
    "xray",
    "monitoring",
    "bedrock-runtime",
    "ssm",
]
# Internal HTTPS listeners with a certificate from ACM Private CA (every AWS listener is TLS: docs/security.md).
DOMAIN = {
    "name": "gateway.estate.example.internal",
    "internal": True,
    "private_ca_arn": "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "00000000-0000-4000-8000-0000000000e5",
}


def existing_network(existing_endpoints: list[str]) -> dict[str, object]:
    return {
        "vpc_id": VPC_ID,
        "vpc_cidr": VPC_CIDR,
        "private_subnets": [
            {
                "id": f"subnet-0{i}a2b3c4d5e6f7081",
                "availability_zone": zone,
                "route_table_id": f"rtb-0{i}a2b3c4d5e6f7081",
            }
            for i, zone in enumerate(ZONES)
        ],
        "client_prefix_list_id": PREFIX_LIST,
        "existing_endpoints": existing_endpoints,
    }


def _common(prefix: str, existing_endpoints: list[str]) -> list[str]:
    return [
        f"deployment.prefix={prefix}",
        f"domain={json.dumps(DOMAIN)}",
        "network.az_count=3",
        f"network.cidr={VPC_CIDR}",
        f"network.existing={json.dumps(existing_network(existing_endpoints))}",
        "compute.architecture=arm64",
        f"compute.image={ARM_IMAGE}",
        "compute.image_architectures=[x86_64, arm64]",
    ]


# aws-eks renders the collector sidecar: its image is pinned by digest (gatekit.config.platform_checks), as mirrored.
EKS_COLLECTOR_IMAGE = "registry.corp.net/mirror/otel-collector-contrib@sha256:" + "c0" * 32
EKS_COLLECTOR = f"observability.collector_image={EKS_COLLECTOR_IMAGE}"

ESTATE_VARIANTS: dict[str, tuple[str, list[str]]] = {
    "estate": (
        "staging",
        [*_common("gk-est", []), "network.mode=isolated", f"network.endpoints={json.dumps(ENDPOINTS)}"],
    ),
    "estate-eks": (
        "staging",
        [
            *_common("gk-est2", ENDPOINTS),
            "target=aws-eks",
            "network.mode=private",
            "network.endpoints=[s3]",
            EKS_COLLECTOR,
        ],
    ),
}


# The estate's data stores and cluster (literal ids: synthesis looks nothing up).
ACCOUNT = "123456789012"
DB_SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:estate/aurora-admin-Ab12Cd"
CACHE_SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:estate/valkey-auth-Ef34Gh"
SECRETS_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
DB_SG = "sg-0d8e7f6a5b4c3d2e1"
CACHE_SG = "sg-0c1a2b3c4d5e6f708"
CLUSTER_SG = "sg-0e5c4b3a29180f7e6"
DB_RESOURCE_ID = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
KUBECTL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/platform-eks-deployer"


def existing_database(security_groups: list[str]) -> dict[str, object]:
    return {
        "cluster_identifier": "estate-aurora",
        "cluster_resource_id": DB_RESOURCE_ID,
        "endpoint": "estate-aurora.cluster-c0ffee123456.us-east-1.rds.amazonaws.com",
        "admin_secret_arn": DB_SECRET_ARN,
        "secret_kms_key_arn": SECRETS_KEY_ARN,
        "security_group_ids": security_groups,
    }


def existing_cache(security_groups: list[str]) -> dict[str, object]:
    return {
        "replication_group_id": "estate-valkey",
        "endpoint": "master.estate-valkey.abc123.use1.cache.amazonaws.com",
        "auth_token_secret_arn": CACHE_SECRET_ARN,
        "security_group_ids": security_groups,
    }


EXISTING_CLUSTER = {
    "name": "platform-shared",
    "kubectl_role_arn": KUBECTL_ROLE,
    "oidc_provider_arn": OIDC_ARN,
    "security_group_id": CLUSTER_SG,
}


def _existing_stores(db_groups: list[str], cache_groups: list[str]) -> list[str]:
    return [
        f"network.cidr={VPC_CIDR}",
        "network.az_count=3",
        f"network.existing={json.dumps(existing_network(ENDPOINTS))}",
        "network.mode=private",
        "network.endpoints=[s3]",
        f"domain={json.dumps(DOMAIN)}",
        f"database.existing={json.dumps(existing_database(db_groups))}",
        f"cache.existing={json.dumps(existing_cache(cache_groups))}",
    ]


ESTATE_VARIANTS["estate-data"] = ("staging", ["deployment.prefix=gk-est3", *_existing_stores([DB_SG], [CACHE_SG])])
ESTATE_VARIANTS["estate-cluster"] = (
    "staging",
    [
        "deployment.prefix=gk-est4",
        "target=aws-eks",
        EKS_COLLECTOR,
        *_existing_stores([DB_SG], []),
        f"kubernetes.existing={json.dumps(EXISTING_CLUSTER)}",
    ],
)
