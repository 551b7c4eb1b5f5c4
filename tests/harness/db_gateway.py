"""Starting database-on gateways as a deployment runs them, shared by tests/db (one gateway) and tests/tenants (two
replicas): `gatekit migrate` as the migrations task runs it (admin credentials, DATABASE_* only), the runtime role it
grants, the demo upstream, and `gatekit serve` processes with only the DATABASE_* variables the ECS task sets (no
DATABASE_URL), the Prisma engine being the TEST-ONLY stand-in."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import httpx

from gatekit.rehearse.services import Postgres, free_port
from gatekit.render.container import DATABASE_CA_ENV

DB = "litellm"
RUNTIME_ROLE = "gatekit_runtime"
START_TIMEOUT = 600  # generous: a loaded 2-core machine takes minutes to import LiteLLM


def database_env(pg: Postgres, user: str, password: str) -> dict[str, str]:
    """What the ECS task definition sets: discrete variables, verify-full against the CA it carries as PEM text
    (cdk.gateway_ecs_stack.database_environment; here the harness CA stands for the RDS bundle), no DATABASE_URL."""
    return {
        "DATABASE_HOST": pg.host,
        "DATABASE_PORT": str(pg.port),
        "DATABASE_NAME": DB,
        "DATABASE_USER": user,
        "DATABASE_PASSWORD": password,
        "DATABASE_SSLMODE": "verify-full",
        DATABASE_CA_ENV: pg.ca_file.read_text(),
    }


def clean_env() -> dict[str, str]:
    """This process's environment without anything that configures a gateway, its database or its cache."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GATEKIT_", "LITELLM_", "REDIS_"))}


def migrate(pg: Postgres, work: Path) -> tuple[str, dict[str, object]]:
    """Create the runtime role and the database, then run the migrations task (admin credentials, `gatekit migrate
    --runtime-role`). Returns the runtime role's password and the task's JSON result."""
    runtime_password = secrets.token_urlsafe(18)
    pg.sql(f"CREATE ROLE {RUNTIME_ROLE} LOGIN PASSWORD '{runtime_password}'")
    pg.create_database(DB)
    done = subprocess.run(
        [sys.executable, "-m", "gatekit.cli", "migrate", "--runtime-role", RUNTIME_ROLE, "--json"],
        env={**clean_env(), **database_env(pg, pg.superuser, pg.password)},
        cwd=work, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"gatekit migrate failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return runtime_password, json.loads(done.stdout)


def start_mock_llm(work: Path, out: IO[bytes]) -> tuple[subprocess.Popen[bytes], int]:
    """The demo upstream (`gatekit mock-llm`) on a free port; wait for it with `wait_http(…/health)`."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekit.cli", "mock-llm", "--port", str(port), "--chunk-delay-ms", "0"],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=work,
    )  # fmt: skip
    return proc, port


def serve(overrides: list[str], env: Mapping[str, str], out: IO[bytes], cwd: Path) -> subprocess.Popen[bytes]:
    """`gatekit serve --env local` with these `--set` overrides, in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "gatekit.cli", "serve", "--env", "local", *[a for o in overrides for a in ("--set", o)]],
        env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd,
    )  # fmt: skip


def wait_http(
    url: str,
    proc: subprocess.Popen[bytes],
    log: Path,
    ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
    timeout: float = START_TIMEOUT,
) -> None:
    """Poll `url` until `ok(response)`; fail with the log's tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            r = httpx.get(url, timeout=5)
            last = f"{r.status_code} {r.text[:300]}"
            if ok(r):
                return
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready in {timeout}s (last: {last}):\n{log.read_text(errors='replace')[-4000:]}")


def stop(proc: subprocess.Popen[bytes], grace: float = 60) -> int:
    """SIGTERM to the process only (as a platform stops a container's PID 1), then its whole group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # children left behind (the Prisma engine), if any
    return int(proc.returncode)
