"""Fixtures for tenancy as code and enforcement on real servers: two database-on replicas (own PostgreSQL, the
session's TLS+AUTH Redis), and a config directory whose `tenancy` environment declares teams, users and keys."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.rehearse.services import Redis, postgres_server
from tests.conftest import REPO
from tests.harness.fixtures import harness_redis, prisma_engine  # noqa: F401 (session fixtures)
from tests.tenants.cluster import Cluster, db_cluster

# Replica 0 fails closed when PostgreSQL goes away (the default); replica 1 serves keys it already knows.
SVC_KEY_ENV = "TENANCY_SVC_KEY"
PER_REPLICA = [["gateway.degraded.postgres_down=fail-closed"], ["gateway.degraded.postgres_down=serve"]]


def tenancy_doc(rpm_key_env: str, budget_key_env: str, with_ops: bool = True) -> dict[str, Any]:
    teams: dict[str, Any] = {"research": {"models": ["economy", "premium"], "max_budget_usd": 50, "rpm": 100}}
    if with_ops:
        teams["ops"] = {"models": ["economy"], "budget_duration": "30d", "max_budget_usd": 5}
    keys: dict[str, Any] = {
        "ci-bot": {
            "secret": {"env": rpm_key_env},
            "team": "research",
            "user": "alice",
            "models": ["economy"],
            "rpm": 2,
        },
        "tiny-budget": {"secret": {"env": budget_key_env}, "team": "research", "max_budget_usd": 0.000001},
        # First used while PostgreSQL is away (no replica has it cached).
        "svc": {"secret": {"env": SVC_KEY_ENV}, "team": "research"},
    }
    return {
        "extends": "local",
        "description": "tests/tenants: tenancy as code",
        "tenants": {
            "teams": teams,
            "users": {"alice": {"email": "alice@example.com", "teams": ["research"], "models": ["economy"]}},
            "keys": keys,
        },
    }


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Tenancy:
    cluster: Cluster
    config_dir: Path
    environ: dict[str, str]  # the process environment `gatekit tenants` runs with (key values included)
    rpm_key_env: str
    budget_key_env: str

    def write(self, doc: dict[str, Any], name: str = "tenancy") -> None:
        (self.config_dir / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def gatekit(self, *args: str, env_name: str = "tenancy", url: str | None = None) -> Run:
        """`gatekit tenants ARGS` (the real command, in process: a CLI start per call would cost seconds each)."""
        overrides = [a for o in self.cluster.overrides for a in ("--set", o)]
        argv = ["tenants", *args, "--env", env_name, "--config-dir", str(self.config_dir)]
        argv += ["--url", url or self.cluster.replicas[0].url, *overrides]
        wanted = ("GATEKIT_MASTER_KEY", self.rpm_key_env, self.budget_key_env, SVC_KEY_ENV)
        env: dict[str, str | None] = {k: self.environ[k] for k in wanted}
        result = CliRunner(env={**env, "GATEKIT_URL": None, "GATEKIT_ENV": None}).invoke(cli, argv)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    def key(self, env_var: str) -> str:
        return self.environ[env_var]


@pytest.fixture(scope="package")
def cluster(
    harness_redis: Redis,  # noqa: F811
    prisma_engine: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("tenancy")
    with (
        postgres_server(work / "postgres") as pg,
        db_cluster(pg, harness_redis, prisma_engine, work, PER_REPLICA, REPO) as c,
    ):
        yield c


@pytest.fixture(scope="package")
def tenancy(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Tenancy:
    config_dir = tmp_path_factory.mktemp("tenancy-config") / "config"
    shutil.copytree(REPO / "config", config_dir)
    environ = {**cluster.env, "TENANCY_CI_BOT_KEY": "sk-" + secrets.token_urlsafe(24)}
    environ["TENANCY_TINY_KEY"] = "sk-" + secrets.token_urlsafe(24)
    environ[SVC_KEY_ENV] = "sk-" + secrets.token_urlsafe(24)
    t = Tenancy(cluster, config_dir, environ, "TENANCY_CI_BOT_KEY", "TENANCY_TINY_KEY")
    t.write(tenancy_doc(t.rpm_key_env, t.budget_key_env))
    return t
