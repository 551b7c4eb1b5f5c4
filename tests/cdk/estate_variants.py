"""Synth variants of an existing estate (issue 18): two deployments into one existing three-AZ VPC.

- `estate`: ECS, isolated, a Bedrock model behind the `bedrock-runtime` endpoint, Graviton (arm64) tasks from a
  bring-your-own image that declares arm64; it creates the VPC endpoints the VPC lacks.
- `estate-eks`: EKS with arm64 nodes in the same VPC, private mode; it lists the first deployment's endpoints in
  `existing_endpoints`, so it creates none (two interface endpoints with private DNS for one service cannot coexist in
  a VPC), and every name is generated (no collisions).
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


ESTATE_VARIANTS: dict[str, tuple[str, list[str]]] = {
    "estate": (
        "staging",
        [*_common("gk-est", []), "network.mode=isolated", f"network.endpoints={json.dumps(ENDPOINTS)}"],
    ),
    "estate-eks": (
        "staging",
        [*_common("gk-est2", ENDPOINTS), "target=aws-eks", "network.mode=private", "network.endpoints=[s3]"],
    ),
}
