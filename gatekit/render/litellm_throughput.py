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

from typing import Any

from gatekit.config import Environment
from gatekit.config.sizing import pool_per_process


def add_throughput_settings(env: Environment, general: dict[str, Any]) -> None:
    if not env.database.enabled:
        return  # DB-less: no pool, no spend writes
    general["database_connection_pool_limit"] = max(1, pool_per_process(env))
    general["proxy_batch_write_at"] = env.gateway.spend_logs.batch_write_seconds
