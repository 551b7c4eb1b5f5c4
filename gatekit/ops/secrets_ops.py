"""rotate-secret: the master key, a provider key, or the database credentials; and reading the master key for other
operations. Values are never printed, logged or passed on a command line."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from gatekit.config import Environment, SecretRef
from gatekit.ops.discovery import Deployment
from gatekit.ops.ecs_ops import force_redeploy
from gatekit.ops.errors import OpsError
from gatekit.ops.plan import Plan

DB_CREDENTIALS = "db-credentials"
MASTER_KEY = "master-key"


def secret_refs(env: Environment) -> dict[str, SecretRef]:
    """Rotatable secrets by name: `master-key` and every provider key store reference in the config."""
    refs: dict[str, SecretRef] = {MASTER_KEY: env.secrets.master_key}
    for model in env.gateway.models:
        if model.litellm_params is None:
            continue
        for ref in model.litellm_params.secret_refs().values():
            if ref.secret is not None:
                refs.setdefault(ref.secret, ref)
    return refs


def read_secret(deployment: Deployment, ref: SecretRef) -> str:
    text = read_secret_raw(deployment, ref)
    if ref.key is None:
        return text
    try:
        return str(json.loads(text)[ref.key])
    except (ValueError, KeyError, TypeError):
        raise OpsError(f"{ref.describe()}: the secret is not JSON with field `{ref.key}`") from None


def master_key(deployment: Deployment, explicit: str | None) -> str:
    """--key / $GATEKIT_MASTER_KEY, else the master key secret the service reads."""
    return explicit or read_secret(deployment, deployment.env.secrets.master_key)


def new_value(name: str, value_from_env: str | None) -> str:
    if value_from_env:
        value = os.environ.get(value_from_env, "")
        if not value:
            raise OpsError(f"--value-from-env {value_from_env}: that environment variable is empty or not set")
        return value
    if name == MASTER_KEY:
        return "sk-" + secrets.token_urlsafe(32)
    raise OpsError(
        f"`{name}` is a provider key: the provider issues the new value. Put it in an environment variable "
        "(e.g. `read -rs NEW_KEY && export NEW_KEY`) and pass --value-from-env NEW_KEY"
    )


def _secret_string(deployment: Deployment, ref: SecretRef, value: str) -> str:
    if ref.key is None:
        return value
    current = json.loads(read_secret_raw(deployment, ref) or "{}")
    if not isinstance(current, dict):
        raise OpsError(f"{ref.describe()}: the secret is not a JSON object")
    current[ref.key] = value
    return json.dumps(current)


def read_secret_raw(deployment: Deployment, ref: SecretRef) -> str:
    # The stage is explicit (it is the default): an emulator that keeps a stale default after a stage move (moto
    # 5.2.5) still answers with the current value.
    sm = deployment.aws.client("secretsmanager")
    value = sm.get_secret_value(SecretId=deployment.secret_arn(ref), VersionStage="AWSCURRENT")
    return str(value.get("SecretString", ""))


def plan_rotation(
    deployment: Deployment, name: str, value_from_env: str | None, redeploy: bool, wait_timeout: float
) -> Plan:
    if name == DB_CREDENTIALS:
        return _plan_db_rotation(deployment)
    refs = secret_refs(deployment.env)
    if name not in refs:
        raise OpsError(f"unknown secret `{name}`; rotatable here: {', '.join([*sorted(refs), DB_CREDENTIALS])}")
    ref = refs[name]
    arn = deployment.secret_arn(ref)
    svc = deployment.service
    plan = Plan(f"rotate `{name}` ({ref.describe()}) of `{deployment.env.name}`")

    def put() -> Any:
        value = new_value(name, value_from_env)
        body = _secret_string(deployment, ref, value)
        put = deployment.aws.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=body)
        return put["VersionId"]

    field = f" (field `{ref.key}`)" if ref.key else ""
    source = f"${value_from_env}" if value_from_env else "a newly generated random key"
    plan.add(f"secretsmanager:PutSecretValue on {arn}{field} with {source}; the old value stays as AWSPREVIOUS", put)
    if redeploy:
        plan.add(
            f"ecs:UpdateService --force-new-deployment on {svc.cluster}/{svc.service} and wait up to "
            f"{wait_timeout:.0f} s for it to complete, so every task reads the new value",
            lambda: force_redeploy(deployment, wait_timeout),
        )
    return plan


def _plan_db_rotation(deployment: Deployment) -> Plan:
    cluster = deployment.db_cluster()
    cluster_id = cluster["DBClusterIdentifier"]
    master_secret: dict[str, Any] = cluster.get("MasterUserSecret") or {}
    secret = master_secret.get("SecretArn", "the RDS-managed master secret")
    plan = Plan(f"rotate the database admin credentials of `{deployment.env.name}` (cluster {cluster_id})")
    plan.add(
        f"rds:ModifyDBCluster --rotate-master-user-password --apply-immediately on {cluster_id} (RDS rotates "
        f"{secret}); the gateway is not restarted: it signs in as the runtime user with IAM tokens, and only the "
        "migrations task reads the admin secret",
        lambda: deployment.aws.client("rds").modify_db_cluster(
            DBClusterIdentifier=cluster_id, RotateMasterUserPassword=True, ApplyImmediately=True
        ),
    )
    return plan


def plan_secret_rollback(deployment: Deployment, name: str, redeploy: bool, wait_timeout: float) -> Plan:
    """Make AWSPREVIOUS current again (undo a rotation), then redeploy."""
    refs = secret_refs(deployment.env)
    if name not in refs:
        raise OpsError(f"unknown secret `{name}`; known: {', '.join(sorted(refs))}")
    arn = deployment.secret_arn(refs[name])
    sm = deployment.aws.client("secretsmanager")
    stages = sm.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    current = next((v for v, s in stages.items() if "AWSCURRENT" in s), None)
    previous = next((v for v, s in stages.items() if "AWSPREVIOUS" in s), None)
    if current is None or previous is None:
        raise OpsError(f"`{name}` has no AWSPREVIOUS version to go back to ({arn})")
    plan = Plan(f"roll back secret `{name}` of `{deployment.env.name}` to its previous value")
    plan.add(
        f"secretsmanager:UpdateSecretVersionStage AWSCURRENT {current} -> {previous} on {arn}",
        lambda: sm.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=previous, RemoveFromVersionId=current
        ),
    )
    if redeploy:
        svc = deployment.service
        plan.add(
            f"ecs:UpdateService --force-new-deployment on {svc.cluster}/{svc.service} and wait for it",
            lambda: force_redeploy(deployment, wait_timeout),
        )
    return plan
