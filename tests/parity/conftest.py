"""One pair of proxies for the parity suite: `gatekit up` (env local) and vanilla LiteLLM (its own CLI) serving the
same rendered config, with the same master key and environment, sharing the gateway's demo provider."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekit.config import default_config_dir, load_environment
from gatekit.rehearse.services import Postgres
from gatekit.render.env import render_environment
from tests.conftest import REPO, GatewayFactory, GatewayHandle, free_port, wait_ready
from tests.harness.fixtures import harness_postgres, prisma_engine  # noqa: F401 (session fixtures)

# Files and batches: LiteLLM load-balances them over the model named inside the uploaded JSONL (the demo provider),
# instead of needing a provider-wide `files_settings`. Both sides render it, so it is not a difference.
PARITY_OVERRIDES = ("gateway.litellm.litellm_settings.enable_loadbalancing_on_batch_endpoints=true",)


@dataclass
class ParityPair:
    gateway: GatewayHandle
    key: str  # the master key both sides use (the factory's own key is replaced through the environment)
    upstream_url: str
    config_path: Path
    demo_port: int


@dataclass
class ParityDbPair(ParityPair):
    pg: Postgres
    databases: tuple[str, str]  # (gatekit's, vanilla's) on the same server


def _render(overrides: list[str], path: Path) -> None:
    cmd = [sys.executable, "-m", "gatekit.cli", "config", "render", "--env", "local", "--target", "litellm"]
    cmd += [a for o in overrides for a in ("--set", o)]
    path.write_bytes(subprocess.run(cmd, cwd=REPO, check=True, capture_output=True).stdout)


def _start_vanilla(
    overrides: list[str], env_extra: dict[str, str], workdir: Path
) -> tuple[subprocess.Popen[bytes], str, Path, Path]:
    """`litellm --config` on the rendered config (not waited for: start the gateway meanwhile)."""
    port = free_port()
    config_path = workdir / "litellm.yaml"
    _render(overrides, config_path)
    env = load_environment("local", default_config_dir(), overrides)
    proc_env = {**os.environ, **render_environment(env).plain, **env_extra, "CONFIG_FILE_PATH": str(config_path)}
    litellm_bin = Path(sys.executable).parent / "litellm"
    cmd = [str(litellm_bin), "--config", str(config_path), "--host", "127.0.0.1", "--port", str(port)]
    log_path = workdir / "litellm.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=workdir, env=proc_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return proc, f"http://127.0.0.1:{port}", config_path, log_path


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the Prisma engine stand-in, if any


def _shared_env(key: str, demo_port: int) -> dict[str, str]:
    # File listing/retrieval and batches not tied to a model use LiteLLM's provider-wide OpenAI default: point it at
    # the demo provider on both sides (no real provider is ever reached).
    return {
        "GATEKIT_MASTER_KEY": key,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{demo_port}/v1",
        "OPENAI_API_KEY": "demo-not-required",
    }


@pytest.fixture(scope="session")
def parity_pair(gateway_factory: GatewayFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParityPair]:
    workdir = tmp_path_factory.mktemp("parity-upstream")
    demo_port = free_port()
    overrides = [f"gateway.demo_provider.port={demo_port}", *PARITY_OVERRIDES]
    key = "sk-parity-" + os.urandom(12).hex()
    shared_env = _shared_env(key, demo_port)
    # Start vanilla first (no waiting), then the gateway: the two start-ups overlap.
    proc, url, config_path, log_path = _start_vanilla(overrides, shared_env, workdir)
    try:
        gateway = gateway_factory(overrides=overrides, extra_env=shared_env)
        wait_ready(url, proc, log_path)
        yield ParityPair(gateway, key, url, config_path, demo_port)
    finally:
        _stop(proc)


# The database pair: each side in its own database of one PostgreSQL server, created by `gatekit migrate`.
DB_GATEKIT, DB_VANILLA = "parity_gatekit", "parity_vanilla"
DB_OVERRIDES = ("database.enabled=true", 'database.url={"env": "DATABASE_URL"}')
ADMIN_ONLY_LOOPBACK = 'gateway.exposure.admin_cidrs=["127.0.0.1/32"]'  # 127.0.0.2 is then a non-admin client
NON_ADMIN_SOURCE = "127.0.0.2"
DB_START_TIMEOUT = 600.0  # as tests/db: LiteLLM plus its Prisma engine on a loaded 2-core machine take minutes


def _migrate(pg: Postgres, databases: tuple[str, ...], workdir: Path) -> None:
    procs = []
    for db in databases:
        pg.create_database(db)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        env["DATABASE_URL"] = pg.dsn(db, sslmode="require")
        log = (workdir / f"migrate-{db}.log").open("wb")
        cmd = [sys.executable, "-m", "gatekit.cli", "migrate", "--json"]
        procs.append((db, subprocess.Popen(cmd, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT), log))
    for db, proc, log in procs:
        code = proc.wait(600)
        log.close()
        if code != 0:
            raise RuntimeError(f"gatekit migrate of {db} failed ({code}):\n{Path(log.name).read_text()[-3000:]}")


@pytest.fixture(scope="session")
def parity_db_pair(
    gateway_factory: GatewayFactory,
    harness_postgres: Postgres,  # noqa: F811
    prisma_engine: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ParityDbPair]:
    """gatekit (`gatekit up`, database on) and vanilla LiteLLM on the same rendered config, each with a database."""
    workdir = tmp_path_factory.mktemp("parity-db")
    pg = harness_postgres
    _migrate(pg, (DB_GATEKIT, DB_VANILLA), workdir)
    demo_port = free_port()
    overrides = [f"gateway.demo_provider.port={demo_port}", *PARITY_OVERRIDES, *DB_OVERRIDES]
    key = "sk-parity-db-" + os.urandom(12).hex()
    database_env = {
        "PRISMA_QUERY_ENGINE_BINARY": str(prisma_engine),
        "PROXY_BATCH_WRITE_AT": "1",  # LiteLLM's spend batch writer: flush every ~1-6 s instead of 10-15 s
    }
    shared_env = {**_shared_env(key, demo_port), **database_env}
    vanilla_env = {
        **shared_env,
        "DATABASE_URL": pg.dsn(DB_VANILLA, sslmode="require"),
        "DISABLE_SCHEMA_UPDATE": "true",  # migrated by `gatekit migrate` (LiteLLM's own path needs Prisma's CLI)
    }
    proc, url, config_path, log_path = _start_vanilla(overrides, vanilla_env, workdir)
    try:
        gateway = gateway_factory(
            overrides=[*overrides, ADMIN_ONLY_LOOPBACK],
            extra_env={**shared_env, "DATABASE_URL": pg.dsn(DB_GATEKIT, sslmode="require")},
            start_timeout=DB_START_TIMEOUT,
        )
        wait_ready(url, proc, log_path, DB_START_TIMEOUT)
        yield ParityDbPair(gateway, key, url, config_path, demo_port, pg, (DB_GATEKIT, DB_VANILLA))
    finally:
        _stop(proc)
