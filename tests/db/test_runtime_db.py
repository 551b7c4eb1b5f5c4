"""The DB runtime pieces without a proxy: DATABASE_URL from DATABASE_*, the readiness gate, migrate's ledger."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.types import Receive, Scope, Send

from gatekit.config import load_environment
from gatekit.rehearse.services import Postgres
from gatekit.runtime.app import build_app
from gatekit.runtime.database import apply_database_url
from gatekit.runtime.migrate import MigrationError, libpq_url, migrate
from gatekit.runtime.prepare import MissingSecretsError
from tests.conftest import REPO


def db_env(overrides: tuple[str, ...] = ()) -> Any:
    return load_environment("dev", REPO / "config", overrides)


def test_database_url_built_from_the_ecs_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in {
        "DATABASE_HOST": "db.internal", "DATABASE_PORT": "5433", "DATABASE_NAME": "litellm",
        "DATABASE_USERNAME": "gatekit_admin", "DATABASE_PASSWORD": "p@ss/word", "DATABASE_SSLMODE": "require",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    url = apply_database_url(db_env())
    assert url is not None
    assert url.startswith("postgresql://gatekit_admin:p%40ss%2Fword@db.internal:5433/litellm?")
    assert "sslmode=require" in url


def test_database_enabled_without_any_database_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URL", "DATABASE_HOST", "DATABASE_USER", "DATABASE_USERNAME", "DATABASE_NAME"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(MissingSecretsError, match="DATABASE_HOST"):
        apply_database_url(db_env())


def test_db_less_environment_never_connects_to_an_inherited_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@elsewhere:5432/db")
    assert apply_database_url(load_environment("local", REPO / "config")) is None
    assert "DATABASE_URL" not in os.environ  # LiteLLM reads it directly: a DB-less gateway must not see it


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """apply_database_url writes os.environ itself (LiteLLM's apply_to_env): put the process environment back, so no
    DATABASE_URL leaks into the gateways later tests start."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def fake_litellm(readiness: dict[str, Any], status: int = 200) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = json.dumps(readiness).encode()
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": body})

    return app


def call(app: Any, path: str) -> tuple[int, dict[str, Any]]:
    return asyncio.run(_call(app, path))


async def _call(app: Any, path: str) -> tuple[int, dict[str, Any]]:
    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [], "http_version": "1.1", "scheme": "http", "server": ("t", 80), "client": ("t", 1),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


@pytest.mark.parametrize(
    ("litellm_says", "status"),
    [({"status": "healthy", "db": "Not connected"}, 200), ({"status": "healthy", "db": "disconnected"}, 503)],
)
def test_readiness_is_503_unless_the_database_is_connected(
    monkeypatch: pytest.MonkeyPatch, litellm_says: dict[str, Any], status: int
) -> None:
    monkeypatch.setenv("GATEKIT_TEST_MASTER", "sk-test")
    env = db_env(('secrets.master_key={"env": "GATEKIT_TEST_MASTER"}',))
    got, body = call(build_app(fake_litellm(litellm_says, status), env), "/health/readiness")
    assert got == 503
    assert body["status"] == "database-unavailable" and body["reason"]


def test_readiness_passes_when_connected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKIT_TEST_MASTER", "sk-test")
    env = db_env(('secrets.master_key={"env": "GATEKIT_TEST_MASTER"}',))
    got, body = call(build_app(fake_litellm({"status": "healthy", "db": "connected"}), env), "/health/readiness")
    assert (got, body["db"]) == (200, "connected")


def test_prisma_url_dialect_becomes_libpq() -> None:
    url, schema = libpq_url(
        "postgresql://u:p@h:5432/d?schema=s1&connection_limit=5&sslmode=require&sslcert=/ca.pem&sslaccept=strict"
    )
    assert schema == "s1"
    assert "connection_limit" not in url and "sslaccept" not in url
    assert "sslrootcert=%2Fca.pem" in url and url.endswith("sslmode=verify-full")


def test_a_failed_migration_is_recorded_and_blocks_later_runs(harness_postgres: Postgres, tmp_path: Path) -> None:
    pg = harness_postgres
    pg.create_database("migrate_failure")
    for name, sql in [("001_ok", "CREATE TABLE a (id int);"), ("002_bad", "CREATE TABLE a (id int);"),
                      ("003_never", "CREATE TABLE c (id int);")]:  # fmt: skip
        (tmp_path / name).mkdir()
        (tmp_path / name / "migration.sql").write_text(sql)
    dsn = pg.dsn("migrate_failure")
    with pytest.raises(MigrationError, match="002_bad failed"):
        migrate(dsn, directory=tmp_path, views=False)
    rows = pg.sql('SELECT migration_name, finished_at IS NOT NULL, logs IS NOT NULL FROM "_prisma_migrations" '
                  "ORDER BY migration_name", db="migrate_failure")  # fmt: skip
    assert rows == [("001_ok", True, False), ("002_bad", False, True)]
    with pytest.raises(MigrationError, match="002_bad failed in an earlier run"):
        migrate(dsn, directory=tmp_path, views=False)
    with pytest.raises(psycopg.errors.UndefinedTable):
        pg.sql("SELECT * FROM c", db="migrate_failure")


def test_readiness_follows_the_database_the_process_started_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """A synced document that turns the database on is restart-only: until the restart the process is DB-less and
    readiness must not wait for a database it will never connect to (nor, the other way, forget one it has)."""
    from gatekit.runtime.state import RuntimeState

    monkeypatch.setenv("GATEKIT_TEST_MASTER", "sk-test")
    master = ('secrets.master_key={"env": "GATEKIT_TEST_MASTER"}',)
    started = load_environment("local", REPO / "config", master)
    state = RuntimeState(started)
    app = build_app(fake_litellm({"status": "healthy", "db": "Not connected"}), started, state=state)
    state.config_applied(db_env(master), "v2", None, ["database"])
    got, body = call(app, "/health/readiness")
    assert (got, body["db"]) == (200, "Not connected")
