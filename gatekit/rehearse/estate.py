"""Rehearsing a deployment into an existing estate (issue 18): what the estate already runs is stood in by what the
rehearsal runs anyway. The existing Aurora cluster is the local PostgreSQL with an admin user owning the database (as
the estate's DBA hands it over), the existing replication group is the local Redis (TLS + AUTH), and their secrets
exist in moto under the names of the ARNs the config gives (a complete ARN's name carries Secrets Manager's suffix,
which is how the runner resolves an ARN moto did not issue). The existing VPC and cluster are not exercised: they are
reported as not reproduced, never passed."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace

from gatekit.config import Environment
from gatekit.rehearse.aws_world import AwsWorld
from gatekit.rehearse.spec import NotReproduced, ProcessSpec

# The estate's admin user of its Aurora cluster, as the rehearsal stands it in (any name the estate chose works: the
# migrations task and the runtime-role SQL read it from the secret).
ESTATE_ADMIN = "estate_dba"

EXISTING_VPC = NotReproduced(
    "existing VPC",
    "the estate's subnets, route tables, prefix list and endpoints are imported by id; no network is simulated, and "
    "the security-group rules gatekit adds to the estate's groups are not evaluated",
)
EXISTING_AURORA = NotReproduced(
    "existing Aurora cluster",
    "stood in by the local PostgreSQL: the rehearsal creates the estate's admin user (owner of the database, may "
    "create roles) and its secret under the given ARN's name; gatekit's runtime-role SQL then runs as that user, as "
    "the RDS Data API would run it",
)
EXISTING_CACHE = NotReproduced(
    "existing ElastiCache",
    "stood in by the local Redis (TLS + AUTH); the given AUTH token secret holds that server's password",
)
EXISTING_CLUSTER = NotReproduced(
    "existing EKS cluster",
    "the cluster, its kubectl role and the IRSA / Pod Identity exchange are not exercised; the pod runs as local "
    "processes like every EKS rehearsal",
)


def secret_name(arn: str) -> str:
    """The name part of a complete Secrets Manager ARN (with its 6-character suffix), as the runner resolves it."""
    return arn.split(":secret:", 1)[1]


def stand_in_existing_stores(world: AwsWorld, env: Environment) -> list[NotReproduced]:
    """Create the estate's secrets in moto (call after `world.populate()`), and say what stands in for what."""
    notes: list[NotReproduced] = []
    client = world.client("secretsmanager")
    if env.network.existing is not None:
        notes.append(EXISTING_VPC)
    if env.kubernetes.existing is not None and env.target == "aws-eks":
        notes.append(EXISTING_CLUSTER)
    database = env.database.existing
    if env.database.enabled and database is not None:
        if world.database is None:
            raise ValueError("database.existing is set, but the rehearsal was given no PostgreSQL to stand it in")
        password = secrets.token_urlsafe(24)
        body = json.dumps({"username": ESTATE_ADMIN, "password": password})
        client.create_secret(Name=secret_name(database.admin_secret_arn), SecretString=body)
        world.admin_credentials[ESTATE_ADMIN] = password
        notes.append(EXISTING_AURORA)
    cache = env.cache.existing
    if env.cache.enabled and cache is not None:
        if world.cache is None or world.cache_password is None:
            raise ValueError("cache.existing is set, but the rehearsal was given no Redis with AUTH to stand it in")
        client.create_secret(Name=secret_name(cache.auth_token_secret_arn), SecretString=world.cache_password)
        notes.append(EXISTING_CACHE)
    return notes


def admin_user_of(world: AwsWorld, secret_arn: str) -> str:
    """The user the Data API statement runs as: the `username` of the secret it names."""
    value = world.client("secretsmanager").get_secret_value(SecretId=secret_name(secret_arn))["SecretString"]
    return str(json.loads(value)["username"])


def stand_in_hosts(spec: ProcessSpec, env: Environment, world: AwsWorld) -> ProcessSpec:
    """The estate's endpoints (literal host names in the task definition or manifests) to the local servers'."""
    mapped = dict(spec.env)
    database, cache = env.database.existing, env.cache.existing
    if database is not None and world.database is not None and mapped.get("DATABASE_HOST") == database.endpoint:
        mapped["DATABASE_HOST"] = world.database.host
    if cache is not None and world.cache is not None and mapped.get("REDIS_HOST") == cache.endpoint:
        mapped["REDIS_HOST"] = world.cache.host
    return replace(spec, env=mapped)
