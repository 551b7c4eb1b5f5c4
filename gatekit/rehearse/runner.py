"""Run a `Deployment` as its platform would and check it: the database set up as the target sets it up, the config
document published where the target publishes it, the migrations process first (it must exit 0), then N gateway
replicas; then the checks (report.CHECKS), in order, against those replicas. Everything started is stopped."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from gatekit.config import Environment
from gatekit.rehearse import checks
from gatekit.rehearse.image import ImageFacts
from gatekit.rehearse.processes import Running, launch
from gatekit.rehearse.report import Report
from gatekit.rehearse.spec import Deployment, NotReproduced, ProcessSpec, SecretSource
from gatekit.rehearse.sweep_check import route_sweep
from gatekit.rehearse.venv import GatewayVenv

MIGRATIONS_TIMEOUT_SECONDS = 900
HOT_RELOAD_MODEL = "rehearsal-hot-reload"


class RehearsalError(RuntimeError):
    pass


# Extra checks a caller runs against the ready replicas (after the built-in request checks, before the hot reload and
# the drain): probe(report, replicas, master_key, environment) adds its own check results to the report.
Probe = Callable[[Report, list[Running], str, Environment], None]


@dataclass
class Context:
    """Where the rehearsal runs: the install, the image facts, the database server (superuser SQL), how secrets and
    documents reach the target's stores, and what every process additionally gets (service endpoints, trust)."""

    venv: GatewayVenv
    image: ImageFacts
    workdir: Path
    sql: Callable[[str, str], list[tuple[Any, ...]]]  # (query, database) as the superuser
    resolve_secret: Callable[[SecretSource], str]
    publish_document: Callable[[str], None]  # the target's config source, as its deploy writes it
    overlay: dict[str, str] = field(default_factory=dict)
    free_port: Callable[[], int] | None = None
    probes: list[Probe] = field(default_factory=list)
    # Called once the checks that need fresh replicas have run (before hot reload and drain): more checks against the
    # running replicas (e.g. the parity matrix); an exception fails the rehearsal like any other error.
    after_checks: Callable[[list[Running], str, Environment], None] | None = None


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def setup_database(deployment: Deployment, ctx: Context, admin_password: str | None) -> dict[str, str]:
    """The managed database as the target gets it (an admin user owning the database, as RDS/Cloud SQL create it),
    then the target's own role/grant SQL run as that admin. Returns the runtime user's password when the target
    authenticates it by a means the rehearsal cannot reproduce (the caller injects it)."""
    setup = deployment.database
    if setup is None:
        return {}
    admin = setup.admin_user
    password = admin_password or secrets.token_urlsafe(24)
    ctx.sql(f"CREATE ROLE {admin} LOGIN CREATEROLE PASSWORD {_quote(password)}", "postgres")
    ctx.sql(f"CREATE DATABASE {setup.database} OWNER {admin}", "postgres")
    # RDS: the IAM-auth marker role, grantable by the master user.
    ctx.sql("DO $$ BEGIN CREATE ROLE rds_iam; EXCEPTION WHEN duplicate_object THEN NULL; END $$", "postgres")
    ctx.sql(f"GRANT rds_iam TO {admin} WITH ADMIN OPTION", "postgres")
    for statement in setup.statements:
        ctx.sql(f"SET ROLE {admin};\n{statement}", setup.database)
    out: dict[str, str] = {}
    if setup.runtime_user:
        runtime_password = secrets.token_urlsafe(24)
        ctx.sql(f"ALTER ROLE {setup.runtime_user} PASSWORD {_quote(runtime_password)}", "postgres")
        out[setup.runtime_user] = runtime_password
    return out


def resolved_secrets(spec: ProcessSpec, ctx: Context) -> dict[str, str]:
    return {var: ctx.resolve_secret(source) for var, source in spec.secret_env.items()}


def document_env(deployment: Deployment) -> Environment:
    return Environment.model_validate(json.loads(deployment.config_source.document))


def reloaded_document(env: Environment) -> tuple[str, str]:
    """The deployed document plus one model (a reloadable change): (document text, the version replicas report)."""
    from gatekit.render.sync_document import sync_document

    data = env.model_dump(mode="json")
    first = dict(data["gateway"]["models"][0])
    first["model_name"] = HOT_RELOAD_MODEL
    data["gateway"]["models"].append(first)
    document = sync_document(Environment.model_validate(data))
    return document.text, document.version


def rehearse(deployment: Deployment, ctx: Context, db_passwords: dict[str, str] | None = None) -> Report:
    report = Report(deployment.target, deployment.env_name, not_reproduced=list(deployment.not_reproduced))
    running: list[Running] = []
    try:
        _run(deployment, ctx, report, running, db_passwords or {})
    except Exception as exc:  # recorded in the report (fails it) and re-raised by nobody: the report is the result
        report.error = f"{type(exc).__name__}: {exc}"
    finally:
        for replica in running:
            replica.kill()
        report.processes = [
            {"name": r.name, "argv": list(cast("list[str]", r.proc.args)), "uid": r.spec.uid,
             "exit_code": r.proc.returncode, "log": str(r.log)}
            for r in running
        ]  # fmt: skip
    return report


def _run(
    deployment: Deployment, ctx: Context, report: Report, running: list[Running], db_passwords: dict[str, str]
) -> None:
    env = document_env(deployment)
    ctx.publish_document(deployment.config_source.document)
    setup = deployment.database
    runtime_passwords = setup_database(deployment, ctx, db_passwords.get(setup.admin_user) if setup else None)

    def secrets_for(spec: ProcessSpec) -> dict[str, str]:
        values = resolved_secrets(spec, ctx)
        user = spec.env.get("DATABASE_USER") or spec.env.get("DATABASE_USERNAME")
        if user in runtime_passwords and "DATABASE_PASSWORD" not in values:
            values["DATABASE_PASSWORD"] = runtime_passwords[user]
        return values

    database = setup.database if setup else "postgres"

    def sql(query: str) -> list[tuple[Any, ...]]:
        return ctx.sql(query, database)

    migration_specs = deployment.of_kind("migrations")
    if not migration_specs:
        report.add("migrations", False, reason="the target deploys no migrations process")
    for spec in migration_specs:
        proc = launch(spec, 0, venv=ctx.venv, image=ctx.image, workdir=ctx.workdir, secrets=secrets_for(spec),
                      overlay=ctx.overlay)  # fmt: skip
        running.append(proc)
        try:
            code: int | None = proc.proc.wait(MIGRATIONS_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
        if not checks.migrations(report, code, proc.tail(), sql):
            raise RehearsalError(f"migrations `{spec.name}` failed (exit {code}); see {proc.log}")

    gateway = deployment.gateway()
    if ctx.free_port is None:
        raise RehearsalError("no port allocator")
    replicas = [
        launch(gateway, i, venv=ctx.venv, image=ctx.image, workdir=ctx.workdir, secrets=secrets_for(gateway),
               overlay=ctx.overlay, port=ctx.free_port())
        for i in range(gateway.replicas)
    ]  # fmt: skip
    running.extend(replicas)
    readiness_path = gateway.readiness_path or "/health/readiness"
    readiness = [checks.wait_ready(r, readiness_path) for r in replicas]
    checks.db_connected(report, replicas, readiness)
    if not all(seen.get("status") == 200 for seen in readiness):
        tails = {r.name: r.tail(1500) for r in replicas}
        raise RehearsalError(f"replicas never became ready: {json.dumps(tails)[:4000]}")

    master_var = env.secrets.master_key.env_var
    master_key = secrets_for(gateway).get(master_var)
    if not master_key:
        raise RehearsalError(f"the gateway is given no master key ({master_var})")
    model = env.gateway.models[0].model_name
    key = checks.virtual_key(report, replicas, master_key, model)
    checks.spend_recorded(report, key, sql)
    checks.budget_enforced(report, replicas, master_key, model)
    route_sweep(report, replicas, ctx.venv, ctx.workdir)  # unauthenticated, non-admin address (security, issue 12)
    for probe in ctx.probes:
        probe(report, replicas, master_key, env)
    if ctx.after_checks is not None:
        ctx.after_checks(replicas, master_key, env)

    def publish() -> str:
        text, version = reloaded_document(env)
        ctx.publish_document(text)
        return version

    checks.hot_reload(
        report, replicas, master_key, publish, deployment.config_source.upload or deployment.config_source.uri
    )
    checks.drain(report, replicas)


def not_reproduced(what: str, reason: str) -> NotReproduced:
    return NotReproduced(what, reason)
