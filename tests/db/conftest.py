"""One real LiteLLM proxy with its database, for the whole session: PostgreSQL 16 (TLS), `gatekit migrate` run as the
migrations task runs it (admin credentials, DATABASE_* only), then `gatekit serve` as the runtime role with only the
DATABASE_* variables the ECS task sets (no DATABASE_URL), the Prisma engine being the TEST-ONLY stand-in."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekit.rehearse.services import Postgres, free_port
from tests.agents.conftest import Peer, agent_peer_env, gateway_overrides, launch_peer, wait_peer
from tests.conftest import REPO
from tests.harness.db_gateway import (
    RUNTIME_ROLE,
    clean_env,
    database_env,
    migrate,
    serve,
    start_mock_llm,
    stop,
    wait_http,
)
from tests.harness.fixtures import harness_postgres, prisma_engine  # noqa: F401 (session fixtures)


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
    # The migrations task: admin credentials, `gatekit migrate`, grants for the runtime role.
    runtime_password, migrate_result = migrate(pg, work)

    # Real agent-gateway peers (an MCP server and an A2A agent) for the access-group tests on virtual keys and
    # teams (tests/db/test_tenancy_agent_gateways.py); started now, ready long before the proxy is.
    peers = [launch_peer(kind, work) for kind in ("mcp", "a2a", "mcp")]
    mcp, agent, spare = peers
    port = free_port()
    master_key = "sk-gatekit-db-" + secrets.token_hex(12)
    log = work / "processes.log"
    out = log.open("ab")
    demo, demo_port = start_mock_llm(work, out)
    env = {
        **clean_env(),
        **database_env(pg, RUNTIME_ROLE, runtime_password),
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
    proxy = serve(overrides, env, out, REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"http://127.0.0.1:{demo_port}/health", demo, log)
        wait_http(f"{url}/health/liveliness", proxy, log)
        # Readiness: 503 until the database is connected (never DB-less by accident).
        wait_http(f"{url}/health/readiness", proxy, log)
        for peer in peers:
            wait_peer(peer)
        yield DbGateway(url, master_key, pg, migrate_result, proxy, log, mcp, agent, overrides)
    finally:
        stop(proxy)
        stop(demo)
        for peer in peers:
            peer.stop()
        out.close()
