"""Two database-on gateway replicas sharing one PostgreSQL and one Redis (TLS + AUTH), as a two-task deployment runs:
`gatekit migrate` as the migrations task runs it, then `gatekit serve` twice as the runtime role (DATABASE_* only,
the TEST-ONLY Prisma engine stand-in), with Redis as cache and coordination state (shared rate limits).

The PostgreSQL is this module's own (tests stop and restart it); Redis is the session's."""

from __future__ import annotations

import contextlib
import secrets
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gatekit.rehearse.services import Postgres, Redis, free_port
from tests.harness import db_gateway as launch


@dataclass
class Replica:
    url: str
    proc: subprocess.Popen[bytes]
    overrides: list[str]


@dataclass
class Cluster:
    replicas: list[Replica]
    master_key: str
    pg: Postgres
    redis: Redis
    overrides: list[str]  # the environment overrides both replicas share (also for `gatekit tenants`)
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.master_key}"}

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@contextlib.contextmanager
def db_cluster(
    pg: Postgres, redis: Redis, engine: Path, work: Path, per_replica: list[list[str]], repo: Path
) -> Iterator[Cluster]:
    """len(per_replica) replicas; per_replica[i] are overrides of replica i only."""
    runtime_password, _ = launch.migrate(pg, work)
    master_key = "sk-gatekit-tenancy-" + secrets.token_hex(12)
    log = work / "processes.log"
    out = log.open("ab")
    demo, demo_port = launch.start_mock_llm(work, out)
    procs: list[subprocess.Popen[bytes]] = [demo]
    redis_url = f"{redis.url}?ssl_cert_reqs=required&ssl_ca_certs={redis.ca_file}"
    env = {
        **launch.clean_env(),
        **launch.database_env(pg, launch.RUNTIME_ROLE, runtime_password),
        "GATEKIT_MASTER_KEY": master_key,
        "PRISMA_QUERY_ENGINE_BINARY": str(engine),
        "PROXY_BATCH_WRITE_AT": "1",  # LiteLLM's spend batch writer: flush every ~1-6 s instead of 10-15 s
        "REDIS_URL": redis_url,
        "REDIS_SSL": "True",
    }
    shared = [
        "database.enabled=true",
        'database.url={"env": "DATABASE_URL"}',
        'cache.url={"env": "REDIS_URL"}',
        "gateway.caching.backend=redis",
        f"gateway.demo_provider.port={demo_port}",
    ]
    replicas: list[Replica] = []
    try:
        for i, extra in enumerate(per_replica):
            port = free_port()
            overrides = [*shared, f"gateway.port={port}", *extra]
            proc = launch.serve(overrides, {**env, "GATEKIT_RUNTIME_DIR": str(work / f"runtime-{i}")}, out, repo)
            procs.append(proc)
            replicas.append(Replica(f"http://127.0.0.1:{port}", proc, overrides))
        launch.wait_http(f"http://127.0.0.1:{demo_port}/health", demo, log)
        for replica in replicas:
            launch.wait_http(f"{replica.url}/health/readiness", replica.proc, log)
        yield Cluster(replicas, master_key, pg, redis, shared, log, env)
    finally:
        for proc in procs:  # all at once: each drains on its own
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            launch.stop(proc, grace=20)  # test servers: nothing is in flight by now
        out.close()
