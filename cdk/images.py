"""Which images the gateway tasks run: the gateway (config `compute.image`, else the private ECR repository, imported
or created, at the tag of this gatekit release) and the ADOT collector (mirrored into that repository when the
network is isolated)."""

from __future__ import annotations

from importlib.metadata import version

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from gatekit.render.image_tags import collector_tag

PUBLIC_REGISTRY = "public.ecr.aws/"


def gateway_image_tag() -> str:
    """The gateway image is released with gatekit: `<repository>:<gatekit version>` (immutable tags)."""
    return version("gatekit")


def gateway_repository(scope: Construct, ecr_repository: str | None) -> ecr.IRepository:
    """The private repository: `aws.ecr_repository` if configured, else one created here (no fixed name)."""
    if ecr_repository:
        return ecr.Repository.from_repository_name(scope, "GatewayRepository", ecr_repository)
    return ecr.Repository(
        scope,
        "GatewayRepository",
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        image_scan_on_push=True,
        encryption=ecr.RepositoryEncryption.KMS,
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=gateway_lifecycle_rules(),
    )


# Gateway images are tagged with the gatekit version (a digit first); the mirrored collector with collector_tag().
GATEWAY_TAG_PREFIXES = [str(digit) for digit in range(10)]


def gateway_lifecycle_rules() -> list[ecr.LifecycleRule]:
    """Expire old gateway releases (and untagged layers), never the mirrored collector image the tasks still run: a
    count rule over every image would expire it once 50 gateway releases were pushed after it."""
    return [
        ecr.LifecycleRule(
            rule_priority=1,
            tag_status=ecr.TagStatus.TAGGED,
            tag_prefix_list=GATEWAY_TAG_PREFIXES,
            max_image_count=50,
            description="keep the last 50 gateway releases",
        ),
        ecr.LifecycleRule(
            rule_priority=2,
            tag_status=ecr.TagStatus.UNTAGGED,
            max_image_age=Duration.days(7),
            description="untagged images after a week",
        ),
    ]


def gateway_image(compute_image: str | None, repository: ecr.IRepository) -> ecs.ContainerImage:
    """`compute.image` if configured, else the released tag in the gateway repository."""
    if compute_image:
        return ecs.ContainerImage.from_registry(compute_image)
    return ecs.ContainerImage.from_ecr_repository(repository, gateway_image_tag())


def collector_image(image: str, network_mode: str, repository: ecr.IRepository) -> ecs.ContainerImage:
    """`aws.collector_image`; in an isolated network the copy the moat bundle mirrors into the gateway repository."""
    if network_mode == "isolated" and image.startswith(PUBLIC_REGISTRY):
        # No route to public ECR: the moat bundle mirrors the collector into the gateway repository.
        return ecs.ContainerImage.from_ecr_repository(repository, collector_tag(image))
    return ecs.ContainerImage.from_registry(image)
