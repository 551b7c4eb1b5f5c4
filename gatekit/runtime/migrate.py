"""`gatekit migrate`: apply LiteLLM's database migrations (litellm-proxy-extras) the way `prisma migrate deploy` does.

Why not LiteLLM's own path: gatekit serves LiteLLM's app directly, so nothing migrates at start, and `prisma migrate
deploy` needs Prisma's schema engine and Node.js at run time. This module needs neither (psycopg only), so the same
command works in the production image, in air-gapped installs and on a test machine (docs/adr/0020-gatekit-migrate.md).

Compatibility: the bookkeeping is Prisma's own `_prisma_migrations` table (same columns, sha256 checksums of each
`migration.sql`, `finished_at` set on success, `logs` on failure) under Prisma's advisory lock, so `prisma migrate
deploy`/`status` and LiteLLM's tooling see the same state afterwards and never run concurrently with this command.
Idempotent: applied migrations are skipped; a failed one stops every later run until an operator resolves it.

After the SQL migrations it creates the views LiteLLM would otherwise create at its first start (as the migration
role, with LiteLLM's own DDL from litellm.proxy.db.create_views), and optionally grants a runtime role the
table-level privileges the gateway needs (DML, no DDL)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

log = logging.getLogger("gatekit.migrate")

# Prisma Migrate's advisory lock key on PostgreSQL (the schema engine takes the same one).
PRISMA_ADVISORY_LOCK = 72707369
# Query parameters Prisma understands and libpq does not.
PRISMA_ONLY_PARAMS = frozenset(
    {"schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout", "statement_cache_size",
     "sslaccept", "sslcert", "sslidentity", "sslpassword", "max_idle_connection_lifetime", "max_connection_lifetime"}
)  # fmt: skip
MIGRATIONS_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)"""


class MigrationError(RuntimeError):
    """A migration failed, or an earlier failure blocks this run (the message says what to do)."""


@dataclass(frozen=True)
class Migration:
    name: str
    path: Path

    @property
    def script(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)
    already_applied: int = 0
    modified_after_apply: list[str] = field(default_factory=list)
    views_created: bool = False
    granted_to: str | None = None


def migrations_dir() -> Path:
    """The migrations shipped by the installed litellm-proxy-extras (the version LiteLLM pins)."""
    import litellm_proxy_extras

    return Path(litellm_proxy_extras.__file__).parent / "migrations"


def list_migrations(directory: Path) -> list[Migration]:
    """Migration folders in Prisma's order (lexicographic by folder name; names may contain spaces)."""
    found = [Migration(p.name, p / "migration.sql") for p in directory.iterdir() if (p / "migration.sql").is_file()]
    if not found:
        raise MigrationError(f"no migrations under {directory}")
    return sorted(found, key=lambda m: m.name)


def libpq_url(prisma_url: str) -> tuple[str, str]:
    """(URL libpq accepts, schema): Prisma's dialect rewritten (sslcert -> sslrootcert, sslaccept=strict ->
    verify-full), Prisma-only parameters dropped."""
    parts = urlsplit(prisma_url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(pairs)
    kept = [(k, v) for k, v in pairs if k not in PRISMA_ONLY_PARAMS]
    if "sslcert" in params and "sslrootcert" not in params:
        kept.append(("sslrootcert", params["sslcert"]))
    if params.get("sslaccept") == "strict":
        kept = [(k, v) for k, v in kept if k != "sslmode"] + [("sslmode", "verify-full")]
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(kept))), params.get("schema") or "public"


class _RawDb:
    """LiteLLM's SupportsRawQueries protocol (create_views.py) over a psycopg connection."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute_raw(self, query: str, *args: object) -> int:
        return int(self.conn.execute(query, args or None).rowcount)

    async def query_raw(self, query: str, *args: object) -> Sequence[Mapping[str, object]]:
        cur = self.conn.execute(query, args or None)
        if cur.description is None:
            return []
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _ledger(conn: Any) -> dict[str, tuple[str, bool]]:
    """migration name -> (checksum, finished) for rows not rolled back."""
    rows = conn.execute(
        'SELECT migration_name, checksum, finished_at IS NOT NULL FROM "_prisma_migrations" '
        "WHERE rolled_back_at IS NULL ORDER BY started_at"
    ).fetchall()
    return {name: (checksum, finished) for name, checksum, finished in rows}


def _apply(conn: Any, migration: Migration) -> None:
    row_id = str(uuid.uuid4())
    conn.execute(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) '
        "VALUES (%s, %s, %s, now(), 0)",
        (row_id, migration.checksum, migration.name),
    )
    try:
        # One simple-protocol query per file, outside a transaction block, as Prisma runs it: a file that is a single
        # CREATE INDEX CONCURRENTLY works; a multi-statement file runs as one implicit transaction.
        conn.execute(migration.script.encode())
    except Exception as exc:
        conn.execute('UPDATE "_prisma_migrations" SET logs = %s WHERE id = %s', (str(exc), row_id))
        raise MigrationError(
            f"migration {migration.name} failed: {exc}. Fix the database, then mark it resolved "
            f'(delete its row in "_prisma_migrations" or `prisma migrate resolve`) and run gatekit migrate again.'
        ) from exc
    conn.execute(
        'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = %s', (row_id,)
    )


def grant_runtime(conn: Any, schema: str, role: str) -> None:
    """What the gateway's runtime role needs once migrations and views exist: DML on tables and views, sequences.

    No CREATE on the schema: the views LiteLLM would create at start already exist (created by this command)."""
    from psycopg import sql

    s, r = sql.Identifier(schema), sql.Identifier(role)
    for stmt in (
        "GRANT USAGE ON SCHEMA {s} TO {r}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}",
    ):
        conn.execute(sql.SQL(stmt).format(s=s, r=r))


def create_views(conn: Any) -> None:
    """LiteLLM's start-up views, with LiteLLM's own DDL, created now by the migration role."""
    import os

    # LiteLLM's documented switch: use the bundled model cost map instead of fetching it at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from litellm.proxy.db.create_views import create_missing_views

    asyncio.run(create_missing_views(_RawDb(conn)))


def migrate(
    database_url: str,
    *,
    directory: Path | None = None,
    views: bool = True,
    runtime_role: str | None = None,
    echo: Callable[[str], None] = log.info,
) -> MigrateResult:
    import psycopg

    url, schema = libpq_url(database_url)
    result = MigrateResult()
    migrations = list_migrations(directory or migrations_dir())
    with psycopg.connect(url, autocommit=True, connect_timeout=30) as conn:
        from psycopg import sql

        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("SELECT pg_advisory_lock(%s)", (PRISMA_ADVISORY_LOCK,))
        try:
            conn.execute(MIGRATIONS_TABLE_DDL)
            ledger = _ledger(conn)
            failed = [name for name, (_, finished) in ledger.items() if not finished]
            if failed:
                raise MigrationError(
                    f"migration {failed[0]} failed in an earlier run and is not resolved; fix the database and "
                    'delete its row in "_prisma_migrations" (or `prisma migrate resolve`), then run again'
                )
            for migration in migrations:
                if migration.name in ledger:
                    result.already_applied += 1
                    if ledger[migration.name][0] != migration.checksum:
                        result.modified_after_apply.append(migration.name)
                    continue
                echo(f"applying {migration.name}")
                _apply(conn, migration)
                result.applied.append(migration.name)
            if views:
                create_views(conn)
                result.views_created = True
            if runtime_role:
                grant_runtime(conn, schema, runtime_role)
                result.granted_to = runtime_role
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (PRISMA_ADVISORY_LOCK,))
    return result
