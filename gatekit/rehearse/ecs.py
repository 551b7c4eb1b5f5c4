"""ECS (aws-ecs, moat) and the data/config stacks read as a `Deployment`: the gateway and migrations task definitions
(argv with the image's ENTRYPOINT/CMD, environment, `secrets`, user, writable mounts, port, health check, stop
timeout), the runtime-user SQL of the data stack, and the config document the config stack's BucketDeployment
uploads. Intrinsics resolve against an `AwsWorld` (moto + the local Postgres/Redis), which also populates the stores
the way the stacks populate them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gatekit.rehearse.aws_world import AwsWorld
from gatekit.rehearse.cfn import Assembly, Resolver, UnresolvableError
from gatekit.rehearse.image import ImageFacts, image_argv
from gatekit.rehearse.spec import (
    ConfigSource,
    DatabaseSetup,
    Deployment,
    NotReproduced,
    ProcessKind,
    ProcessSpec,
    SecretSource,
)

TASK_DEFINITION = "AWS::ECS::TaskDefinition"
GATEWAY_CONTAINER = "gateway"
MIGRATIONS_CONTAINER = "migrations"

ECS_NOT_REPRODUCED = (
    NotReproduced(
        "Application Load Balancer",
        "replicas are reached directly on loopback ports; ALB health checks, "
        "deregistration delay and listeners are not run",
    ),
    NotReproduced(
        "KMS", "secrets and the config bucket are stored unencrypted in moto; key policies are not evaluated"
    ),
    NotReproduced("IAM", "task and execution role policies are not evaluated (moto accepts any credentials)"),
    NotReproduced("ADOT collector sidecar", "not started; the gateway's OTLP export has no receiver"),
    NotReproduced("Fargate networking", "RDS/ElastiCache endpoints and ports are translated to the local servers"),
)


def _container(assembly: Assembly, stack: str, name: str) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    for logical, task in assembly.resources(stack, TASK_DEFINITION).items():
        for container in task["Properties"]["ContainerDefinitions"]:
            if container["Name"] == name:
                return logical, task, container
    return None


def _secret_source(value_from: str) -> SecretSource:
    """ECS `valueFrom`: a Secrets Manager ARN, optionally `:json-key:version-stage:version-id`, or an SSM parameter."""
    if ":ssm:" in value_from or not value_from.startswith("arn:"):
        return SecretSource("aws-ssm", value_from.split(":parameter", 1)[-1] if ":ssm:" in value_from else value_from)
    head, sep, tail = value_from.partition(":secret:")
    if not sep:
        raise UnresolvableError(f"ECS secret `{value_from}` is neither a Secrets Manager ARN nor an SSM parameter")
    name, *rest = tail.split(":")
    key = rest[0] if rest and rest[0] else None
    return SecretSource("aws-secretsmanager", f"{head}:secret:{name}", key)


def _writable(task: dict[str, Any], container: dict[str, Any]) -> tuple[str, ...]:
    volumes = {v["Name"] for v in task["Properties"].get("Volumes", [])}
    paths: list[str] = []
    for mount in container.get("MountPoints", []):
        if mount["SourceVolume"] not in volumes:
            raise UnresolvableError(f"mount of undeclared volume {mount['SourceVolume']}")
        if not mount.get("ReadOnly", False):
            paths.append(mount["ContainerPath"])
    return tuple(paths)


def _health_path(container: dict[str, Any]) -> str | None:
    from gatekit.render import container as contract

    argv = container.get("HealthCheck", {}).get("Command", [])
    if argv == ["CMD", *contract.HEALTHCHECK]:
        return contract.LIVENESS_PATH  # the image's probe (image/healthcheck.py) asks the liveness path
    command = " ".join(argv)
    for path in ("/health/liveliness", "/health/readiness"):
        if path in command:
            return path
    return None


def _process(
    resolver: Resolver,
    stack: str,
    task: dict[str, Any],
    container: dict[str, Any],
    image: ImageFacts,
    *,
    kind: ProcessKind,
    replicas: int,
    readiness_path: str | None,
    origin: str,
) -> ProcessSpec:
    env = {e["Name"]: str(resolver.resolve(stack, e["Value"])) for e in container.get("Environment", [])}
    secrets = {
        s["Name"]: _secret_source(str(resolver.resolve(stack, s["ValueFrom"]))) for s in container.get("Secrets", [])
    }
    user = container.get("User") or image.user
    uid, _, gid = user.partition(":")
    ports = container.get("PortMappings", [])
    return ProcessSpec(
        name=container["Name"],
        kind=kind,
        argv=image_argv(image, container.get("EntryPoint"), container.get("Command")),
        env=env,
        secret_env=secrets,
        uid=int(uid),
        gid=int(gid or uid),
        writable_paths=_writable(task, container),
        read_only_root=bool(container.get("ReadonlyRootFilesystem", False)),
        port=ports[0]["ContainerPort"] if ports else None,
        liveness_path=_health_path(container),
        readiness_path=readiness_path,
        replicas=replicas,
        stop_timeout_seconds=container.get("StopTimeout"),
        origin=origin,
    )


def _readiness_path(assembly: Assembly, stack: str) -> str | None:
    groups = assembly.resources(stack, "AWS::ElasticLoadBalancingV2::TargetGroup")
    paths = {g["Properties"].get("HealthCheckPath") for g in groups.values()}
    return next(iter(paths)) if len(paths) == 1 else None


def config_document(assembly: Assembly, resolver: Resolver, uri: str | None = None) -> ConfigSource:
    """The document the config stack's BucketDeployment uploads to `uri` (default: the stack's ConfigUri output)."""
    stack, template = assembly.stack("config")
    deployments = assembly.resources(stack, "Custom::CDKBucketDeployment")
    if uri is None:
        uri = str(resolver.resolve(stack, template["Outputs"]["ConfigUri"]["Value"]))
    for logical, deployment in deployments.items():
        props = deployment["Properties"]
        bucket = resolver.resolve(stack, props["DestinationBucketName"])
        prefix = props.get("DestinationBucketKeyPrefix", "")
        for object_key in props["SourceObjectKeys"]:
            staged = assembly.asset_dir(str(resolver.resolve(stack, object_key)))
            for path in staged.rglob("*"):
                key = prefix + path.relative_to(staged).as_posix()
                if path.is_file() and f"s3://{bucket}/{key}" == uri:
                    return ConfigSource("s3", uri, path.read_text(), upload=f"{stack}/{logical}: s3://{bucket}/{key}")
    raise UnresolvableError(f"no BucketDeployment of the config stack uploads {uri}")


def database_setup(assembly: Assembly, resolver: Resolver) -> DatabaseSetup | None:
    stack, _ = assembly.stack("data")
    calls = {k: v for k, v in assembly.resources(stack, "Custom::AWS").items() if "RuntimeUser" in k}
    if not calls:
        return None
    ((logical, resource),) = calls.items()
    create = json.loads(resolver.resolve(stack, resource["Properties"]["Create"]))
    if create["service"].lower() != "rds-data" or create["action"] != "ExecuteStatement":
        raise UnresolvableError(f"{logical}: not an RDS Data API statement")
    params = create["parameters"]
    clusters = assembly.resources(stack, "AWS::RDS::DBCluster")
    if clusters:
        admin_user = next(iter(clusters.values()))["Properties"]["MasterUsername"]
    else:  # an existing cluster (issue 18): the statement runs as the user of the secret it names
        from gatekit.rehearse.estate import admin_user_of

        if not isinstance(resolver.world, AwsWorld):
            raise UnresolvableError(f"{logical}: an existing cluster's admin secret needs the AWS world")
        admin_user = admin_user_of(resolver.world, str(params["secretArn"]))
    return DatabaseSetup(
        statements=(params["sql"],),
        run_as="admin",
        database=params["database"],
        admin_user=admin_user,
    )


def _config_uri(env: dict[str, str]) -> str:
    uri = env.get("GATEKIT_CONFIG_URI")
    if not uri:
        raise UnresolvableError("the gateway task has no GATEKIT_CONFIG_URI")
    return uri


def extract_ecs(assembly: Assembly, world: AwsWorld, image: ImageFacts, replicas: int) -> Deployment:
    """The Deployment an ECS environment's stacks describe. `world` must be bound to the assembly's stacks."""
    resolver = Resolver(assembly, world)
    gateway_stack, _ = assembly.stack("gateway")
    found = _container(assembly, gateway_stack, GATEWAY_CONTAINER)
    if found is None:
        raise UnresolvableError(f"{gateway_stack}: no `{GATEWAY_CONTAINER}` container")
    logical, task, container = found
    gateway = _process(
        resolver,
        gateway_stack,
        task,
        container,
        world.image,
        kind="gateway",
        replicas=replicas,
        readiness_path=_readiness_path(assembly, gateway_stack),
        origin=f"{gateway_stack}/{logical}/{GATEWAY_CONTAINER}",
    )
    processes = [gateway]
    migrations = _container(assembly, gateway_stack, MIGRATIONS_CONTAINER)
    if migrations is not None:
        m_logical, m_task, m_container = migrations
        processes.insert(
            0,
            _process(
                resolver,
                gateway_stack,
                m_task,
                m_container,
                world.image,
                kind="migrations",
                replicas=1,
                readiness_path=None,
                origin=f"{gateway_stack}/{m_logical}/{MIGRATIONS_CONTAINER}",
            ),
        )
    setup = database_setup(assembly, resolver)
    if setup is not None and gateway.env.get("DATABASE_USER"):
        setup = DatabaseSetup(
            setup.statements, setup.run_as, setup.database, setup.admin_user, gateway.env["DATABASE_USER"]
        )
    return Deployment(
        target="ecs",
        env_name="",
        processes=processes,
        config_source=config_document(assembly, resolver, _config_uri(gateway.env)),
        database=setup,
        secrets={name: None for name in world.created_secrets},
        not_reproduced=list(ECS_NOT_REPRODUCED),
    )


def synth_dir_has_templates(path: Path) -> bool:
    return any(path.glob("*.template.json"))
