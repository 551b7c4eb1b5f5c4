"""Cross-field rules of an existing EKS cluster and existing data stores (issue 18). Each finding is (dotted path,
message); the loader adds FILE:LINE."""

from __future__ import annotations

from collections.abc import Iterator

from gatekit.config.environment import Environment

Finding = tuple[str, str]
CDK_TARGETS = frozenset({"aws-ecs", "aws-eks", "moat"})


def check_existing(env: Environment) -> list[Finding]:
    return [*_existing_cluster(env), *_existing_database(env), *_existing_cache(env)]


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def _existing_cluster(env: Environment) -> Iterator[Finding]:
    cluster = env.kubernetes.existing
    if cluster is None:
        return
    path = "kubernetes.existing"
    if env.target != "aws-eks":
        yield path, f"applies to target aws-eks (not `{env.target}`)"
        return
    if (cluster.oidc_provider_arn is None) == (not cluster.pod_identity):
        yield (
            f"{path}.oidc_provider_arn",
            "the gateway's service account needs exactly one identity: `oidc_provider_arn` (IRSA) or "
            "`pod_identity: true` (EKS Pod Identity)",
        )
    if cluster.oidc_provider_arn and env.aws is not None:
        issuer_region = cluster.oidc_provider_arn.split("/oidc.eks.", 1)[1].split(".", 1)[0]
        if issuer_region != env.aws.region:
            yield (
                f"{path}.oidc_provider_arn",
                f"is the OIDC provider of a cluster in `{issuer_region}`, not `{env.aws.region}`",
            )
    if env.network.existing is None:
        yield (
            "network.existing",
            "an existing EKS cluster runs in an existing VPC: set network.existing to the cluster's VPC and its "
            "private subnets (the kubectl handler and the data stores use them)",
        )
    if env.compute.architecture != "x86_64":
        yield (
            "compute.architecture",
            "gatekit creates no nodes in an existing cluster; the gateway pods run on the cluster's nodes, so "
            "leave `x86_64` (the image's architecture) and give the cluster's owners the node requirement",
        )


def _existing_database(env: Environment) -> Iterator[Finding]:
    existing = env.database.existing
    if existing is None:
        return
    path = "database.existing"
    if env.target not in CDK_TARGETS:
        yield path, f"applies to targets {', '.join(sorted(CDK_TARGETS))} (not `{env.target}`)"
        return
    if not env.database.enabled:
        yield "database.enabled", "must be true when database.existing names the cluster to use"
    if env.database.url is not None:
        yield "database.url", "give either database.url or database.existing, not both"
    yield from _secret_region(env, f"{path}.admin_secret_arn", existing.admin_secret_arn)
    if existing.security_group_ids and env.network.existing is None:
        yield (
            f"{path}.security_group_ids",
            "an ingress rule from the gateway's security group needs the gateway in the cluster's VPC: set "
            "network.existing (or leave security_group_ids empty and admit the gateway yourself)",
        )


def _existing_cache(env: Environment) -> Iterator[Finding]:
    existing = env.cache.existing
    if existing is None:
        return
    path = "cache.existing"
    if env.target not in CDK_TARGETS:
        yield path, f"applies to targets {', '.join(sorted(CDK_TARGETS))} (not `{env.target}`)"
        return
    if not env.cache.enabled:
        yield "cache.enabled", "must be true when cache.existing names the replication group to use"
    if env.cache.url is not None:
        yield "cache.url", "give either cache.url or cache.existing, not both"
    yield from _secret_region(env, f"{path}.auth_token_secret_arn", existing.auth_token_secret_arn)
    if existing.security_group_ids and env.network.existing is None:
        yield (
            f"{path}.security_group_ids",
            "an ingress rule from the gateway's security group needs the gateway in the replication group's VPC: "
            "set network.existing (or leave security_group_ids empty and admit the gateway yourself)",
        )


def _secret_region(env: Environment, path: str, arn: str) -> Iterator[Finding]:
    if env.aws is not None and _region_of(arn) != env.aws.region:
        yield path, f"is a secret in `{_region_of(arn)}`; the gateway reads secrets of `{env.aws.region}` only"
