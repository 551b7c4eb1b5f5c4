"""The AWS ECS targets (aws-ecs, moat) end to end: synthesize the environment with the project's synth path
(`gatekit synth`), read the assembly, bind it to moto and the local servers, extract the Deployment and give the
runner the target's stores (Secrets Manager and the config bucket in moto)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gatekit.config import Environment
from gatekit.rehearse.aws_world import AwsWorld, Endpoint
from gatekit.rehearse.cfn import Assembly, Resolver
from gatekit.rehearse.ecs import extract_ecs
from gatekit.rehearse.estate import stand_in_existing_stores, stand_in_hosts
from gatekit.rehearse.image import ImageFacts
from gatekit.rehearse.spec import ConfigSource, DatabaseSetup, Deployment, NotReproduced, ProcessSpec, SecretSource
from gatekit.render.container import DATABASE_CA_ENV

SYNTH_TIMEOUT_SECONDS = 900


class SynthFailed(RuntimeError):
    pass


def synth(env_name: str, out: Path, overrides: list[str], config_dir: Path | None = None) -> Path:
    """`gatekit synth --env NAME --out DIR` (cdk-nag off: the linters' tests cover it), as an operator runs it."""
    cmd = [sys.executable, "-m", "gatekit.cli", "synth", "--env", env_name, "--out", str(out), "--no-nag"]
    if config_dir is not None:
        cmd += ["--config-dir", str(config_dir)]
    for item in overrides:
        cmd += ["--set", item]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SYNTH_TIMEOUT_SECONDS, check=False)
    if proc.returncode != 0:
        raise SynthFailed(f"gatekit synth --env {env_name} failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return out


def rehearsal_overrides(env: Environment, mock_base_url: str, key_secret: str = "rehearsal-llm-key") -> list[str]:
    """Point every model at the local demo provider (OpenAI-compatible), keeping names and tiers (routing refers to
    them) and reading its key from the target's secret store like any provider key; and stand the admin network in by
    loopback (ADMIN_NETWORK)."""
    models = [
        {
            "model_name": m.model_name,
            "tier": m.tier,
            "litellm_params": {
                "model": f"openai/{m.model_name}",
                "api_base": mock_base_url,
                "api_key": {"secret": key_secret},
            },
        }
        for m in env.gateway.models
    ]
    return [f"gateway.models={json.dumps(models)}", *admin_network_override(env)]


# The checks create keys, teams and budgets through LiteLLM's management API, which the deployed front door serves
# only to `gateway.exposure.admin_cidrs` (docs/security.md). The rehearsal's client is on loopback.
ADMIN_NETWORK = NotReproduced(
    "admin network",
    "the operator's admin network (gateway.exposure.admin_cidrs) is stood in by loopback: the rehearsal adds "
    "127.0.0.1/32 to it so its checks can use the management API; non-admin clients are covered by the "
    "front-door sweeps of tests/security",
)


def admin_network_override(env: Environment) -> list[str]:
    cidrs = [*env.gateway.exposure.admin_cidrs, "127.0.0.1/32"]
    return [f"gateway.exposure.admin_cidrs={json.dumps(cidrs)}"]


@dataclass
class AwsStores:
    """The runner's view of the target's stores (moto)."""

    world: AwsWorld

    def resolve_secret(self, source: SecretSource) -> str:
        if source.store == "aws-ssm":
            return str(
                self.world.client("ssm").get_parameter(Name=source.name, WithDecryption=True)["Parameter"]["Value"]
            )
        if source.store != "aws-secretsmanager":
            raise ValueError(f"an ECS task cannot read {source.describe()}")
        client = self.world.client("secretsmanager")
        try:
            value = client.get_secret_value(SecretId=source.name)["SecretString"]
        except client.exceptions.ResourceNotFoundException:
            # A partial ARN (fixed name, no random suffix): Secrets Manager resolves it by name.
            value = client.get_secret_value(SecretId=source.name.split(":secret:", 1)[-1])["SecretString"]
        if source.key is None:
            return str(value)
        return str(json.loads(value)[source.key])

    def publish_s3(self, uri: str, document: str) -> None:
        parsed = urlparse(uri)
        self.world.client("s3").put_object(
            Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), Body=document.encode(), ContentType="application/json"
        )


IAM_AUTH = NotReproduced(
    "IAM database authentication",
    "the runtime user authenticates with an rds-db:connect token on AWS; here IAM_TOKEN_DB_AUTH is dropped and the "
    "runner sets a password on that user and injects it as DATABASE_PASSWORD",
)


RDS_CA = NotReproduced(
    "RDS CA bundle",
    "the operator's RDS certificate bundle (database.ca_bundle, carried to the tasks as "
    f"{DATABASE_CA_ENV}) is stood in by the local PostgreSQL's CA: the gateway and the migrations task verify the "
    "server (verify-full, chain and name) against it exactly as deployed",
)


def stand_in_database_ca(spec: ProcessSpec, ca_pem: str) -> tuple[ProcessSpec, bool]:
    """The deployed RDS bundle (DATABASE_CA_ENV) replaced by the local server's CA; True when the process had one."""
    if DATABASE_CA_ENV not in spec.env:
        return spec, False
    if spec.env.get("DATABASE_SSLMODE") != "verify-full":
        raise RuntimeError(f"{spec.name}: carries {DATABASE_CA_ENV} without DATABASE_SSLMODE=verify-full")
    return replace(spec, env={**spec.env, DATABASE_CA_ENV: ca_pem}), True


def stand_in_database_cas(deployment: Deployment, ca_file: Path | None) -> None:
    """Every process's RDS bundle to the local server's CA (RDS_CA noted). A database-on deployment whose processes
    carry none fails: it would connect without verifying the server."""
    if ca_file is None:
        return
    results = [stand_in_database_ca(p, ca_file.read_text()) for p in deployment.processes]
    deployment.processes = [spec for spec, _ in results]
    with_db = [p.name for p in deployment.processes if "DATABASE_HOST" in p.env]
    carried = [spec.name for spec, had in results if had]
    if with_db and sorted(with_db) != sorted(carried):
        raise RuntimeError(f"processes {sorted(set(with_db) - set(carried))} reach the database without a CA")
    if carried:
        deployment.not_reproduced.append(RDS_CA)


def extract_config_and_database(assembly: Assembly, world: AwsWorld) -> tuple[ConfigSource, DatabaseSetup | None]:
    """The config stack's uploaded document (at the config uri it outputs) and the data stack's role/grant SQL."""
    from gatekit.rehearse.ecs import config_document, database_setup

    resolver = Resolver(assembly, world)
    return config_document(assembly, resolver), database_setup(assembly, resolver)


def translate_for_local(spec: ProcessSpec, world: AwsWorld) -> ProcessSpec:
    """Fargate → this machine: RDS/ElastiCache ports to the local servers'; the runtime user's IAM token auth to a
    password the rehearsal sets (an rds-db:connect token cannot be checked by a local PostgreSQL)."""
    env = dict(spec.env)
    if "DATABASE_PORT" in env and world.database is not None:
        env["DATABASE_PORT"] = str(world.database.port)
    if "REDIS_PORT" in env and world.cache is not None:
        env["REDIS_PORT"] = str(world.cache.port)
    env.pop("IAM_TOKEN_DB_AUTH", None)
    return replace(spec, env=env)


def prepare_ecs(
    env: Environment,
    assembly_dir: Path,
    *,
    moto_endpoint: str,
    image: ImageFacts,
    database: Endpoint | None,
    cache: Endpoint | None,
    cache_password: str | None,
    database_ca: Path | None = None,
) -> tuple[Deployment, AwsStores]:
    assert env.aws is not None
    assembly = Assembly.read(assembly_dir, env.aws.region, env.aws.account or "000000000000")
    world = AwsWorld(moto_endpoint, env.aws.region, image, database, cache, cache_password, assembly.account)
    world.bind(assembly.templates)
    world.reset()
    world.populate()
    estate = stand_in_existing_stores(world, env)  # existing Aurora / ElastiCache (issue 18)
    deployment = extract_ecs(assembly, world, image, replicas=max(2, env.compute.replicas.desired))
    iam_auth = any(p.env.get("IAM_TOKEN_DB_AUTH") == "True" for p in deployment.processes)
    deployment.processes = [stand_in_hosts(translate_for_local(p, world), env, world) for p in deployment.processes]
    stand_in_database_cas(deployment, database_ca)
    deployment.not_reproduced.extend(estate)
    deployment.env_name = env.name
    deployment.target = env.target
    if iam_auth:
        deployment.not_reproduced.append(IAM_AUTH)
    return deployment, AwsStores(world)


def describe(deployment: Deployment) -> dict[str, Any]:
    """The extracted processes, for evidence (secret values never included)."""
    return {
        "config_source": {"type": deployment.config_source.type, "uri": deployment.config_source.uri},
        "processes": [
            {"name": p.name, "kind": p.kind, "argv": list(p.argv), "user": f"{p.uid}:{p.gid}",
             "writable": list(p.writable_paths), "secrets": {k: v.describe() for k, v in p.secret_env.items()},
             "replicas": p.replicas, "origin": p.origin}
            for p in deployment.processes
        ],
    }  # fmt: skip
