"""Fitting an existing AWS estate: the CPU architecture of the gateway's compute, and which architectures the
gatekit image is built for (one declared fact, checked against image/Dockerfile by tests/cdk/test_estate.py).

Cross-field rules over these settings live in `gatekit.config.estate_checks`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gatekit.config.gateway import Strict

Architecture = Literal["x86_64", "arm64"]

# The architectures the gatekit gateway image (image/Dockerfile) and the moat wheelhouse are built for. The image's
# Prisma engine target (`PRISMA_CLI_BINARY_TARGETS=debian-openssl-3.0.x`) and the moat installer (Linux x86_64) are
# x86_64 only; add "arm64" here only once the image is built and tested for it (a multi-arch manifest).
GATEKIT_IMAGE_ARCHITECTURES: tuple[Architecture, ...] = ("x86_64",)

# Prisma engine binary target of each architecture on Debian 12 (OpenSSL 3).
PRISMA_TARGETS: dict[Architecture, str] = {"x86_64": "debian-openssl-3.0.x", "arm64": "linux-arm64-openssl-3.0.x"}

# Default EKS node instance type per architecture (same size class: 2 vCPU, 8 GiB).
DEFAULT_NODE_TYPES: dict[Architecture, str] = {"x86_64": "m7i.large", "arm64": "m7g.large"}


class ExistingNetwork(Strict):
    """A VPC the estate already runs (a landing-zone VPC): imported from these ids at synth time, with no lookups, so
    synthesis stays offline and credential-free. gatekit then creates only its security groups and VPC endpoints."""

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    vpc_cidr: str = Field(
        pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
        description="The VPC's primary CIDR (what the endpoint and internal load balancer security groups allow).",
    )
    private_subnets: list[Subnet] = Field(
        min_length=2, description="One private subnet per AZ, in AZ order: the gateway, endpoints and data stores."
    )
    public_subnets: list[Subnet] = Field(
        default_factory=list, description="One public subnet per AZ (internet-facing load balancer only)."
    )
    client_prefix_list_id: str | None = Field(
        default=None,
        pattern=r"^pl-[0-9a-f]{8,17}$",
        description="Managed prefix list of client networks allowed to reach the load balancer (instead of CIDRs).",
    )
    existing_endpoints: list[str] = Field(
        default_factory=list,
        description="Interface endpoints the VPC already has (private DNS on): gatekit does not create these. Two "
        "deployments in one VPC: the first creates them, the second lists them here.",
    )


class Subnet(Strict):
    id: str = Field(pattern=r"^subnet-[0-9a-f]{8,17}$")
    availability_zone: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")
    route_table_id: str | None = Field(
        default=None, pattern=r"^rtb-[0-9a-f]{8,17}$", description="Its route table (the S3 gateway endpoint uses it)."
    )


ExistingNetwork.model_rebuild()
