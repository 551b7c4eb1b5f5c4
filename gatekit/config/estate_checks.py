"""Cross-field rules of the estate settings (issue 18): architectures the image has, Bedrock kept private, and an
existing VPC's subnets. Each finding is (dotted path, message); the loader adds FILE:LINE."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from gatekit.config.environment import AWS_TARGETS, Environment
from gatekit.config.estate import GATEKIT_IMAGE_ARCHITECTURES, Architecture
from gatekit.config.estate_existing_checks import check_existing

Finding = tuple[str, str]
CDK_TARGETS = AWS_TARGETS | {"moat"}
BEDROCK_RUNTIME = "bedrock-runtime"


@dataclass(frozen=True)
class BedrockModel:
    index: int
    model_id: str
    region: str | None  # litellm_params.aws_region_name, when set


def bedrock_models(env: Environment) -> list[BedrockModel]:
    found: list[BedrockModel] = []
    for i, model in enumerate(env.gateway.models):
        params = model.litellm_params
        if params is None or not params.model.startswith("bedrock/"):
            continue
        region = (params.model_extra or {}).get("aws_region_name")
        found.append(BedrockModel(i, params.model.split("/", 1)[1], region if isinstance(region, str) else None))
    return found


def image_architectures(env: Environment) -> tuple[Architecture, ...]:
    """What the gateway image runs on: the declared architectures of a bring-your-own image, else gatekit's."""
    if env.compute.image and env.compute.image_architectures:
        return tuple(env.compute.image_architectures)
    return GATEKIT_IMAGE_ARCHITECTURES


def estate_endpoints(env: Environment) -> set[str]:
    """Interface endpoints the existing VPC already has (gatekit creates none of these)."""
    existing = env.network.existing
    return set(existing.existing_endpoints) if existing else set()


def interface_endpoints(env: Environment) -> list[str]:
    """The interface endpoints gatekit creates: the configured ones, plus `bedrock-runtime` whenever a Bedrock model
    is served from a private or isolated network (model traffic then never needs a NAT), minus those the estate has."""
    wanted = [e for e in env.network.endpoints if e != "s3"]
    if env.network.mode != "public" and bedrock_models(env) and BEDROCK_RUNTIME not in wanted:
        wanted.append(BEDROCK_RUNTIME)
    have = estate_endpoints(env)
    return [e for e in wanted if e not in have]


def check_estate(env: Environment) -> list[Finding]:
    return [*_architecture(env), *_bedrock_private(env), *_existing_network(env), *check_existing(env)]


def _architecture(env: Environment) -> Iterator[Finding]:
    compute = env.compute
    if compute.image_architectures and not compute.image:
        yield (
            "compute.image_architectures",
            "declares the architectures of your own `compute.image`; gatekit's image declares its own "
            f"({', '.join(GATEKIT_IMAGE_ARCHITECTURES)})",
        )
    if compute.architecture != "x86_64" and env.target not in CDK_TARGETS:
        yield "compute.architecture", f"applies to targets {', '.join(sorted(CDK_TARGETS))} (not `{env.target}`)"
        return
    have = image_architectures(env)
    if compute.architecture not in have:
        whose = (
            "the image in `compute.image` declares" if compute.image_architectures else "gatekit's image is built for"
        )
        yield (
            "compute.architecture",
            f"`{compute.architecture}` needs an image built for it; {whose} {', '.join(have)} only "
            "(gatekit/config/estate.py GATEKIT_IMAGE_ARCHITECTURES). Bring a multi-arch image in `compute.image` "
            "and list its architectures in `compute.image_architectures`, or use `x86_64`",
        )


def _bedrock_private(env: Environment) -> Iterator[Finding]:
    if env.network.mode != "isolated" or env.target == "local" or env.aws is None:
        return
    present = BEDROCK_RUNTIME in env.network.endpoints or BEDROCK_RUNTIME in estate_endpoints(env)
    for model in bedrock_models(env):
        path = f"gateway.models.{model.index}.litellm_params.model"
        if not present:
            yield (
                path,
                f"Bedrock model `{model.model_id}` in an isolated network needs the `{BEDROCK_RUNTIME}` VPC endpoint: "
                f"add it to `network.endpoints` (or to `network.existing.existing_endpoints` if the VPC has it)",
            )
        if model.region and model.region != env.aws.region:
            yield (
                f"gateway.models.{model.index}.litellm_params.aws_region_name",
                f"`{model.region}` is not reachable from an isolated network in `{env.aws.region}` (a VPC endpoint "
                "serves its own region only); use a cross-region inference profile from this region instead",
            )


def _existing_network(env: Environment) -> Iterator[Finding]:
    existing = env.network.existing
    if existing is None:
        return
    if env.target not in CDK_TARGETS:
        yield "network.existing", f"applies to targets {', '.join(sorted(CDK_TARGETS))} (not `{env.target}`)"
        return
    count = env.network.az_count
    for field, subnets in (("private_subnets", existing.private_subnets), ("public_subnets", existing.public_subnets)):
        if field == "public_subnets" and not subnets:
            continue
        zones = [s.availability_zone for s in subnets]
        if len(subnets) != count or len(set(zones)) != count:
            yield (
                f"network.existing.{field}",
                f"needs one subnet in each of network.az_count={count} AZs (got {len(subnets)} subnets in "
                f"{len(set(zones))} AZs: {', '.join(zones)})",
            )
        elif env.aws is not None and any(not z.startswith(env.aws.region) for z in zones):
            yield f"network.existing.{field}", f"every subnet must be in region `{env.aws.region}`"
    public_zones = [s.availability_zone for s in existing.public_subnets]
    if public_zones and public_zones != [s.availability_zone for s in existing.private_subnets]:
        yield "network.existing.public_subnets", "must be in the same AZs, in the same order, as private_subnets"
    if env.network.mode == "public":
        yield "network.mode", "an existing VPC runs the gateway in its private subnets: use `private` or `isolated`"
    if env.network.cidr != existing.vpc_cidr:
        yield "network.cidr", f"must equal network.existing.vpc_cidr ({existing.vpc_cidr}) for an existing VPC"
    routed = [s.route_table_id for s in existing.private_subnets]
    if "s3" in env.network.endpoints and "s3" not in existing.existing_endpoints and None in routed:
        yield (
            "network.existing.private_subnets",
            "the S3 gateway endpoint needs each private subnet's `route_table_id` (or list `s3` in existing_endpoints)",
        )
