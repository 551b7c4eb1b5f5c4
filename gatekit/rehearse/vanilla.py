"""A vanilla LiteLLM proxy beside a rehearsal's replicas, for the parity matrix (`gatekit validate --parity`).

It serves the LiteLLM config the replicas render from the deployed document (`render_litellm_config` of the same
environment) with the replica's own process environment (secrets resolved from the target's stores, Redis, trust,
the Prisma engine stand-in), from the same gateway venv, but with `litellm --config` instead of `gatekit serve`. Its
database is a second database on the rehearsal's PostgreSQL server, migrated by `gatekit migrate` as the replicas'
was (LiteLLM's own start-up migration needs Prisma's CLI, hence DISABLE_SCHEMA_UPDATE), so the two never share a key,
a user or a spend row. It is a comparison server: it runs as the rehearsal's user, not as the image's uid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path

import httpx
import yaml

from gatekit.config import Environment
from gatekit.rehearse.processes import Running
from gatekit.rehearse.services import Postgres, ServiceError, free_port
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config

VANILLA_DATABASE = "parity_vanilla"
START_TIMEOUT_SECONDS = 600  # LiteLLM's import alone takes minutes on a loaded 2-core machine
# How the replica reaches its own database (the vanilla proxy gets a DATABASE_URL for its own instead).
_REPLICA_DATABASE_VARS = ("DATABASE_", "IAM_TOKEN_DB_AUTH")


def _migrate(pg: Postgres, database: str, log: Path) -> str:
    pg.create_database(database)
    url = pg.dsn(database, sslmode="require")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_REPLICA_DATABASE_VARS)}
    with log.open("ab") as out:
        code = subprocess.run(
            [sys.executable, "-m", "gatekit.cli", "migrate"],
            env={**env, "DATABASE_URL": url}, stdout=out, stderr=subprocess.STDOUT, timeout=600, check=False,
        ).returncode  # fmt: skip
    if code != 0:
        raise ServiceError(f"gatekit migrate of {database} failed ({code}):\n{log.read_text()[-3000:]}")
    return url


def vanilla_env(replica: Running, env: Environment, database_url: str, config: Path, workdir: Path) -> dict[str, str]:
    """The replica's environment, its database variables replaced by the vanilla database's URL."""
    out = {k: v for k, v in replica.env.items() if not k.startswith(_REPLICA_DATABASE_VARS)}
    for key, value in render_environment(env).plain.items():  # what `gatekit serve` sets before LiteLLM starts
        out.setdefault(key, value)
    (workdir / "tmp").mkdir(exist_ok=True)
    out.update(
        DATABASE_URL=database_url,
        DISABLE_SCHEMA_UPDATE="true",
        CONFIG_FILE_PATH=str(config),
        GATEKIT_RUNTIME_DIR=str(workdir / "runtime"),
        TMPDIR=str(workdir / "tmp"),
    )
    return out


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"vanilla LiteLLM exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health/readiness", timeout=5).status_code == 200:
                return
        time.sleep(1)
    raise ServiceError(f"vanilla LiteLLM not ready in {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def vanilla_beside(
    replica: Running, env: Environment, pg: Postgres, litellm_bin: Path, workdir: Path
) -> Generator[str, None, None]:
    """Start vanilla LiteLLM on the replica's rendered config and environment; yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "vanilla-litellm.log"
    database_url = _migrate(pg, VANILLA_DATABASE, log)
    config = workdir / "litellm.yaml"
    config.write_text(yaml.safe_dump(render_litellm_config(env), sort_keys=False))
    port = free_port()
    cmd = [str(litellm_bin), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    process_env = vanilla_env(replica, env, database_url, config, workdir)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, env=process_env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the Prisma engine stand-in
