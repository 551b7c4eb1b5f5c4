"""One real LiteLLM proxy with its database, for the whole session: PostgreSQL 16 (TLS), `gatekit migrate` run as the
migrations task runs it (admin credentials, DATABASE_* only), then `gatekit serve` as the runtime role with only the
DATABASE_* variables the ECS task sets (no DATABASE_URL), the Prisma engine being the TEST-ONLY stand-in."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gatekit.rehearse.services import Postgres, free_port
from tests.agents.conftest import Peer, agent_peer_env, gateway_overrides, launch_peer, wait_peer
from tests.conftest import REPO
from tests.harness.fixtures import harness_postgres, prisma_engine  # noqa: F401 (session fixtures)

DB = "litellm"
RUNTIME_ROLE = "gatekit_runtime"
START_TIMEOUT = 600  # generous: a loaded 2-core machine takes minutes to import LiteLLM


@dataclass
class DbGateway:
    url: str
    master_key: str
    pg: Postgres
    migrate_result: dict[str, object]
    proc: subprocess.Popen[bytes]
    log: Path
    mcp: Peer  # the agent gateways' peers (tests/agents/peers.py), configured on this gateway
    agent: Peer
    overrides: list[str]  # the --set overrides it runs with (its environment: load_environment("local", …, them))

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.master_key}"}


def _database_env(pg: Postgres, user: str, password: str) -> dict[str, str]:
    """What the ECS task definition sets: discrete variables, sslmode=require, no DATABASE_URL."""
    return {
        "DATABASE_HOST": pg.host,
        "DATABASE_PORT": str(pg.port),
        "DATABASE_NAME": DB,
        "DATABASE_USER": user,
        "DATABASE_PASSWORD": password,
        "DATABASE_SSLMODE": "require",
    }


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GATEKIT_", "LITELLM_"))}
    env.pop("REDIS_URL", None)
    return env


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, ok: object) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            r = httpx.get(url, timeout=5)
            last = f"{r.status_code} {r.text[:300]}"
            if ok(r):  # type: ignore[operator]
                return
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(
        f"{url} not ready in {START_TIMEOUT}s (last: {last}):\n{log.read_text(errors='replace')[-4000:]}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM to the process only (as a platform stops a container's PID 1), then its whole group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # children left behind (the Prisma engine), if any
    return int(proc.returncode)


@pytest.fixture(scope="session")
def db_gateway(
    harness_postgres: Postgres,  # noqa: F811
    prisma_engine: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DbGateway]:
    pg = harness_postgres
    work = tmp_path_factory.mktemp("db-gateway")
    try:
        import prisma

        prisma.Prisma  # noqa: B018 — exists only once the client is generated
    except (ImportError, AttributeError, RuntimeError) as exc:
        raise RuntimeError(f"prisma-client-py has no generated client: run `make setup-tools` ({exc})") from None
    runtime_password = secrets.token_urlsafe(18)
    pg.sql(f"CREATE ROLE {RUNTIME_ROLE} LOGIN PASSWORD '{runtime_password}'")
    pg.create_database(DB)

    # The migrations task: admin credentials, `gatekit migrate`, grants for the runtime role.
    migrate = subprocess.run(
        [sys.executable, "-m", "gatekit.cli", "migrate", "--runtime-role", RUNTIME_ROLE, "--json"],
        env={**_clean_env(), **_database_env(pg, pg.superuser, pg.password)},
        cwd=work, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if migrate.returncode != 0:
        raise RuntimeError(f"gatekit migrate failed ({migrate.returncode}):\n{migrate.stderr[-4000:]}")
    migrate_result = json.loads(migrate.stdout)

    # Real agent-gateway peers (an MCP server and an A2A agent) for the access-group tests on virtual keys and
    # teams (tests/db/test_tenancy_agent_gateways.py); started now, ready long before the proxy is.
    peers = [launch_peer(kind, work) for kind in ("mcp", "a2a", "mcp")]
    mcp, agent, spare = peers
    demo_port, port = free_port(), free_port()
    master_key = "sk-gatekit-db-" + secrets.token_hex(12)
    log = work / "processes.log"
    out = log.open("ab")
    demo = subprocess.Popen(
        [sys.executable, "-m", "gatekit.cli", "mock-llm", "--port", str(demo_port), "--chunk-delay-ms", "0"],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=work,
    )  # fmt: skip
    env = {
        **_clean_env(),
        **_database_env(pg, RUNTIME_ROLE, runtime_password),
        "GATEKIT_MASTER_KEY": master_key,
        "GATEKIT_RUNTIME_DIR": str(work / "runtime"),
        "PRISMA_QUERY_ENGINE_BINARY": str(prisma_engine),
        "PROXY_BATCH_WRITE_AT": "1",  # LiteLLM's spend batch writer: flush every ~1-6 s instead of 10-15 s
        **agent_peer_env(mcp, agent, spare),
    }
    overrides = [
        "database.enabled=true",
        'database.url={"env": "DATABASE_URL"}',
        f"gateway.port={port}",
        f"gateway.demo_provider.port={demo_port}",
        *gateway_overrides(mcp, agent, spare),
    ]
    proxy = subprocess.Popen(
        [sys.executable, "-m", "gatekit.cli", "serve", "--env", "local", *[a for o in overrides for a in ("--set", o)]],
        env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"http://127.0.0.1:{demo_port}/health", demo, log, lambda r: r.status_code == 200)
        _wait_http(f"{url}/health/liveliness", proxy, log, lambda r: r.status_code == 200)
        # Readiness: 503 until the database is connected (never DB-less by accident).
        _wait_http(f"{url}/health/readiness", proxy, log, lambda r: r.status_code == 200)
        for peer in peers:
            wait_peer(peer)
        yield DbGateway(url, master_key, pg, migrate_result, proxy, log, mcp, agent, overrides)
    finally:
        _stop(proxy)
        _stop(demo)
        for peer in peers:
            peer.stop()
        out.close()
