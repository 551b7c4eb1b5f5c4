"""Rehearse an AWS environment: synthesize it (models pointed at the demo provider), bind the assembly to moto and
the local servers, populate the stores as the stacks do, and run the extracted Deployment."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from gatekit.config import Environment
from gatekit.rehearse import services
from gatekit.rehearse.aws_target import (
    ADMIN_NETWORK,
    IAM_AUTH,
    AwsStores,
    extract_config_and_database,
    prepare_ecs,
    rehearsal_overrides,
    stand_in_database_cas,
    synth,
    translate_for_local,
)
from gatekit.rehearse.aws_world import AwsWorld, Endpoint
from gatekit.rehearse.cfn import Assembly, Resolver, UnresolvableError
from gatekit.rehearse.ecs import ECS_NOT_REPRODUCED
from gatekit.rehearse.estate import stand_in_existing_stores, stand_in_hosts
from gatekit.rehearse.processes import Running
from gatekit.rehearse.report import Report
from gatekit.rehearse.runner import Context, rehearse
from gatekit.rehearse.session import AfterChecks, Shared
from gatekit.rehearse.spec import Deployment, NotReproduced, SecretSource

EKS_NOT_REPRODUCED = (
    NotReproduced("EKS scheduling", "no kubelet: the pod's init and gateway containers run as local processes with "
                  "their uid, env and mounts; the internal NLB, HPA, PDB and NetworkPolicy are not exercised"),
    NotReproduced("Secrets Store CSI driver", "its sync is emulated: the SecretProviderClass's objects are read from "
                  "Secrets Manager (moto) into the secretObjects' Secret"),
)  # fmt: skip

POD_IDENTITY = NotReproduced("EKS Pod Identity", "the pod's AWS credentials are moto's static ones")
IRSA = NotReproduced(
    "IRSA",
    "the pod's AWS credentials are moto's static ones: no projected service-account token is exchanged for the "
    "annotated role (the annotation and the role's trust policy are read from the assembly, not evaluated by STS)",
)

PROVIDER_KEY_SECRET = "rehearsal-llm-key"


def aws_overlay(shared: Shared, env: Environment, pg: services.Postgres) -> dict[str, str]:
    """What every process gets from this machine rather than from the task definition: the AWS API endpoints (moto,
    static credentials instead of the task role), the trust store with the local servers' CAs, and the TEST-ONLY
    Prisma engine stand-in (the image bakes the real engine)."""
    assert env.aws is not None
    return {
        "AWS_ENDPOINT_URL": shared.moto,
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_DEFAULT_REGION": env.aws.region,
        "SSL_CERT_FILE": str(shared.trust_bundle),
        "REQUESTS_CA_BUNDLE": str(shared.trust_bundle),
        "PRISMA_QUERY_ENGINE_BINARY": str(shared.engine),
    }


def _context(shared: Shared, env: Environment, pg: services.Postgres, workdir: Path, stores: AwsStores,
             deployment: Deployment, after_checks: AfterChecks | None = None) -> Context:  # fmt: skip
    uri = deployment.config_source.uri
    wrapped: Callable[[list[Running], str, Environment], None] | None = None
    if after_checks is not None:

        def with_database(replicas: list[Running], key: str, deployed: Environment) -> None:
            after_checks(replicas, key, deployed, pg)

        wrapped = with_database
    return shared.context(
        pg, workdir, stores.resolve_secret, lambda document: stores.publish_s3(uri, document),
        aws_overlay(shared, env, pg), after_checks=wrapped,
    )  # fmt: skip


def assembly_key(name: str, overrides: list[str]) -> str:
    """Key of an already synthesized assembly in `Shared.assemblies` (an environment plus its --set overrides)."""
    return "|".join([name, *overrides])


def _set_provider_key(stores: AwsStores) -> None:
    """The demo provider's key, set by the operator after the first deploy (docs/aws.md), as for any provider key."""
    for arn, name in stores.world.created_secrets.items():
        if name.endswith("/" + PROVIDER_KEY_SECRET):
            stores.world.client("secretsmanager").put_secret_value(SecretId=arn, SecretString="rehearsal-demo-key")


def synth_for_rehearsal(shared: Shared, env: Environment, out: Path, overrides: list[str]) -> Path:
    """`gatekit synth` of the environment with its models pointed at the demo provider."""
    return synth(
        env.name, out, [*overrides, *rehearsal_overrides(env, shared.mock_llm, PROVIDER_KEY_SECRET)], shared.config_dir
    )


def rehearse_ecs(
    shared: Shared,
    env: Environment,
    pg: services.Postgres,
    workdir: Path,
    overrides: list[str],
    after_checks: AfterChecks | None = None,
) -> Report:
    out = shared.assemblies.get(assembly_key(env.name, overrides)) or synth_for_rehearsal(
        shared, env, workdir / "cdk.out", overrides
    )
    deployment, stores = prepare_ecs(
        env,
        out,
        moto_endpoint=shared.moto,
        image=shared.image,
        database=Endpoint(pg.host, pg.port),
        cache=Endpoint(shared.redis.host, shared.redis.port),
        cache_password=shared.redis.password,
        database_ca=pg.ca_file,  # stands in for the operator's RDS bundle (RDS_CA)
    )
    _set_provider_key(stores)
    deployment.not_reproduced.append(ADMIN_NETWORK)
    admin = dict(stores.world.admin_credentials)
    context = _context(shared, env, pg, workdir, stores, deployment, after_checks)
    return rehearse(deployment, context, db_passwords=admin)


def eks_manifests(assembly: Assembly, world: AwsWorld) -> list[dict[str, Any]]:
    """The manifest list the gateway stack applies (`cluster.add_manifest`), its tokens resolved against the world."""
    stack, _ = assembly.stack("gateway")
    resolver = Resolver(assembly, world)
    applied = [
        r for lid, r in assembly.resources(stack, "Custom::AWSCDK-EKS-KubernetesResource").items() if "Gateway" in lid
    ]
    if len(applied) != 1:
        raise UnresolvableError(f"{stack}: expected one applied gateway manifest, found {len(applied)}")
    manifests = json.loads(resolver.resolve(stack, applied[0]["Properties"]["Manifest"]))
    return list(manifests)


def eks_world(
    shared: Shared, env: Environment, out: Path, database: Endpoint
) -> tuple[Assembly, AwsWorld, list[NotReproduced]]:
    """The assembly bound to a fresh moto account and the local servers, populated as the stacks populate it, with
    the estate's stand-ins (issue 18: existing cluster / Aurora / ElastiCache) and what they do not reproduce."""
    assert env.aws is not None
    assembly = Assembly.read(out, env.aws.region, env.aws.account or "000000000000")
    world = AwsWorld(shared.moto, env.aws.region, shared.image, database,
                     Endpoint(shared.redis.host, shared.redis.port), shared.redis.password,
                     assembly.account)  # fmt: skip
    world.bind(assembly.templates)
    world.reset()
    world.populate()
    return assembly, world, stand_in_existing_stores(world, env)


def csi_synced_secrets(manifests: list[dict[str, Any]], stores: AwsStores) -> dict[tuple[str, str], str]:
    """What the Secrets Store CSI driver (AWS provider, syncSecret on) writes into the pods' Secrets: for each
    SecretProviderClass, every `objects` entry read from Secrets Manager, copied into `secretObjects`."""
    out: dict[tuple[str, str], str] = {}
    for spc in (m for m in manifests if m.get("kind") == "SecretProviderClass"):
        objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
        by_alias = {
            o.get("objectAlias") or o["objectName"]: stores.resolve_secret(
                SecretSource("aws-secretsmanager", o["objectName"])
            )
            for o in objects
        }
        for synced in spc["spec"].get("secretObjects", []):
            for item in synced["data"]:
                out[(synced["secretName"], item["key"])] = by_alias[item["objectName"]]
    return out


def rehearse_eks(
    shared: Shared, env: Environment, pg: services.Postgres, workdir: Path, overrides: list[str]
) -> Report:
    from gatekit.rehearse.k8s import extract_k8s, materialise

    out = shared.assemblies.get(assembly_key(env.name, overrides)) or synth_for_rehearsal(
        shared, env, workdir / "cdk.out", overrides
    )
    assembly, world, estate = eks_world(shared, env, out, Endpoint(pg.host, pg.port))
    stores = AwsStores(world)
    _set_provider_key(stores)
    ecs_like = extract_config_and_database(assembly, world)
    manifests = eks_manifests(assembly, world)
    documents = {ecs_like[0].uri: ecs_like[0].document}
    extraction = extract_k8s(manifests, shared.image, target=env.target, env_name=env.name, documents=documents)
    materialise(extraction, workdir / "mounts")
    deployment = extraction.deployment
    deployment.processes = [stand_in_hosts(translate_for_local(p, world), env, world) for p in deployment.processes]
    stand_in_database_cas(deployment, pg.ca_file)  # the operator's RDS bundle: the local server's CA (RDS_CA)
    deployment.not_reproduced.extend(estate)
    deployment.database = ecs_like[1]
    if deployment.database is not None:
        runtime_user = deployment.gateway().env.get("DATABASE_USER")
        deployment.database = replace(deployment.database, runtime_user=runtime_user)
    identity = (
        IRSA if env.kubernetes.existing is not None and not env.kubernetes.existing.pod_identity else POD_IDENTITY
    )
    deployment.not_reproduced.extend([*ECS_NOT_REPRODUCED[1:4], *EKS_NOT_REPRODUCED, identity, IAM_AUTH, ADMIN_NETWORK])
    synced = csi_synced_secrets(manifests, stores)

    def resolve(source: SecretSource) -> str:
        if source.store == "k8s-secret":
            return synced[(source.name, source.key or "")]
        return stores.resolve_secret(source)

    uri = deployment.config_source.uri
    context = Context(
        venv=shared.venv,
        image=shared.image,
        workdir=workdir,
        sql=lambda query, db: pg.sql(query, db=db),
        resolve_secret=resolve,
        publish_document=lambda document: stores.publish_s3(uri, document),
        overlay=aws_overlay(shared, env, pg),
        free_port=services.free_port,
        probes=list(shared.probes),
    )
    return rehearse(deployment, context, db_passwords=dict(world.admin_credentials))
