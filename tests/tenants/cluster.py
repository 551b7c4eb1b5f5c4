"""Two database-on gateway replicas sharing one PostgreSQL and one Redis (TLS + AUTH), as a two-task deployment runs:
`gatekit migrate` as the migrations task runs it, then `gatekit serve` twice as the runtime role (DATABASE_* only,
the TEST-ONLY Prisma engine stand-in), with Redis as cache and coordination state (shared rate limits).

The PostgreSQL is this module's own (tests stop and restart it); Redis is the session's."""

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
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gatekit.rehearse.services import Postgres, Redis, free_port

DB = "litellm"
RUNTIME_ROLE = "gatekit_runtime"
START_TIMEOUT = 600  # generous: a loaded 2-core machine takes minutes to import LiteLLM


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


def database_env(pg: Postgres, user: str, password: str) -> dict[str, str]:
    return {
        "DATABASE_HOST": pg.host,
        "DATABASE_PORT": str(pg.port),
        "DATABASE_NAME": DB,
        "DATABASE_USER": user,
        "DATABASE_PASSWORD": password,
        "DATABASE_SSLMODE": "require",
    }


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GATEKIT_", "LITELLM_", "REDIS_"))}
    return env


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, ok: object, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
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
    raise RuntimeError(f"{url} not ready in {timeout}s (last: {last}):\n{log.read_text(errors='replace')[-4000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)  # test servers: nothing is in flight by now
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # children left behind (the Prisma engine), if any


@contextlib.contextmanager
def db_cluster(
    pg: Postgres, redis: Redis, engine: Path, work: Path, per_replica: list[list[str]], repo: Path
) -> Iterator[Cluster]:
    """len(per_replica) replicas; per_replica[i] are overrides of replica i only."""
    runtime_password = secrets.token_urlsafe(18)
    pg.sql(f"CREATE ROLE {RUNTIME_ROLE} LOGIN PASSWORD '{runtime_password}'")
    pg.create_database(DB)
    migrate = subprocess.run(
        [sys.executable, "-m", "gatekit.cli", "migrate", "--runtime-role", RUNTIME_ROLE, "--json"],
        env={**clean_env(), **database_env(pg, pg.superuser, pg.password)},
        cwd=work, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if migrate.returncode != 0:
        raise RuntimeError(f"gatekit migrate failed ({migrate.returncode}):\n{migrate.stderr[-4000:]}")
    json.loads(migrate.stdout)

    demo_port = free_port()
    master_key = "sk-gatekit-tenancy-" + secrets.token_hex(12)
    log = work / "processes.log"
    out = log.open("ab")
    procs: list[subprocess.Popen[bytes]] = []
    demo = subprocess.Popen(
        [sys.executable, "-m", "gatekit.cli", "mock-llm", "--port", str(demo_port), "--chunk-delay-ms", "0"],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=work,
    )  # fmt: skip
    procs.append(demo)
    redis_url = f"{redis.url}?ssl_cert_reqs=required&ssl_ca_certs={redis.ca_file}"
    env = {
        **clean_env(),
        **database_env(pg, RUNTIME_ROLE, runtime_password),
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
            proc = subprocess.Popen(
                [sys.executable, "-m", "gatekit.cli", "serve", "--env", "local",
                 *[a for o in overrides for a in ("--set", o)]],
                env={**env, "GATEKIT_RUNTIME_DIR": str(work / f"runtime-{i}")},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=repo,
            )  # fmt: skip
            procs.append(proc)
            replicas.append(Replica(f"http://127.0.0.1:{port}", proc, overrides))
        wait_http(f"http://127.0.0.1:{demo_port}/health", demo, log, lambda r: r.status_code == 200)
        for replica in replicas:
            wait_http(f"{replica.url}/health/readiness", replica.proc, log, lambda r: r.status_code == 200)
        yield Cluster(replicas, master_key, pg, redis, shared, log, env)
    finally:
        for proc in procs:  # all at once: each drains on its own
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            stop(proc)
        out.close()
