"""The LiteLLM settings that decide a replica's throughput, rendered per environment (docs/performance.md).

- Database connection pool: every worker process of every replica opens its own Prisma pool, and LiteLLM's default
  (`database_connection_pool_limit`, 100 per process) would let a scaled-out service open far more connections than
  the database accepts. The pool is the database's connection limit, less what migrations and operators keep,
  divided by the most processes that can run at once: `compute.replicas.max` x `gateway.workers`.
- Spend writes: LiteLLM batches spend and key-usage updates and writes them every `proxy_batch_write_at` seconds;
  `gateway.spend_logs.batch_write_seconds` sets it (longer: fewer database round trips per request, later spend).
- Log level: LiteLLM's own logger (`LITELLM_LOG`) follows `observability.litellm_log_level`; its INFO lines are
  written per request and cost CPU that gatekit's own request log line already covers.

An explicit value in `gateway.litellm.general_settings` still wins (the open overrides are applied after this)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gatekit.config import Environment
from gatekit.config.sizing import replica_workers


def max_processes(env: Environment) -> int:
    """The most gateway processes that hold database pools at once (every replica at full scale)."""
    return env.compute.replicas.max * replica_workers(env)


def pool_per_process(env: Environment) -> int:
    """Connections one worker process may open: the gateway's share of the database ÷ processes (can be 0)."""
    db = env.database
    return (db.connection_limit - db.reserved_connections) // max_processes(env)


def add_throughput_settings(env: Environment, general: dict[str, Any]) -> None:
    if not env.database.enabled:
        return  # DB-less: no pool, no spend writes
    general["database_connection_pool_limit"] = max(1, pool_per_process(env))
    general["proxy_batch_write_at"] = env.gateway.spend_logs.batch_write_seconds


def check_throughput(env: Environment) -> Iterator[tuple[str, str]]:
    db = env.database
    if not env.database.enabled:
        return
    if db.reserved_connections >= db.connection_limit:
        yield "database.reserved_connections", f"must be below database.connection_limit ({db.connection_limit})"
    elif pool_per_process(env) < 1:
        processes = max_processes(env)
        yield (
            "database.connection_limit",
            f"{db.connection_limit - db.reserved_connections} connections for {processes} gateway processes "
            f"(compute.replicas.max {env.compute.replicas.max} x gateway.workers {replica_workers(env)}) leaves no "
            f"connection per process: raise database.connection_limit to at least "
            f"{processes + db.reserved_connections} or lower the replica or worker count",
        )
