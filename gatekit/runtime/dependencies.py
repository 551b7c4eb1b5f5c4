"""Watch the dependencies the gateway can serve without (Redis): a periodic ping sets `gatekit_dependency_up` and
tells readiness which are down. Serving continues on LiteLLM's in-memory state while Redis is away (degraded mode,
`gateway.degraded.redis_down: serve`); the metric and the readiness note make that visible instead of silent."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any, cast

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from gatekit.config import Environment

log = logging.getLogger("gatekit.runtime")
CHECK_INTERVAL_SECONDS = 2.0
CHECK_TIMEOUT_SECONDS = 1.0
_gauges: dict[int, Gauge] = {}


def dependency_gauge(registry: CollectorRegistry = REGISTRY) -> Gauge:
    """One gauge per registry (Prometheus forbids registering a name twice)."""
    if id(registry) not in _gauges:
        _gauges[id(registry)] = Gauge(
            "gatekit_dependency_up",
            "1 when a dependency answers its health check, 0 while it is away (the gateway serves degraded).",
            ["dependency"],
            registry=registry,
        )
    return _gauges[id(registry)]


def redis_url(environ: Mapping[str, str]) -> str | None:
    """The Redis LiteLLM uses: REDIS_URL, else REDIS_HOST/REDIS_PORT/REDIS_PASSWORD/REDIS_SSL."""
    if environ.get("REDIS_URL"):
        return environ["REDIS_URL"]
    host = environ.get("REDIS_HOST")
    if not host:
        return None
    scheme = "rediss" if environ.get("REDIS_SSL", "").lower() == "true" else "redis"
    password = environ.get("REDIS_PASSWORD")
    auth = f":{password}@" if password else ""
    return f"{scheme}://{auth}{host}:{environ.get('REDIS_PORT', '6379')}"


def uses_redis(env: Environment) -> bool:
    return (env.gateway.caching.enabled and env.gateway.caching.backend == "redis") or env.cache.url is not None


class DependencyMonitor:
    def __init__(self, checks: dict[str, str], registry: CollectorRegistry = REGISTRY) -> None:
        self.urls = checks  # dependency -> URL
        self.gauge = dependency_gauge(registry)
        self.state = dict.fromkeys(checks, True)
        for name in checks:
            self.gauge.labels(name).set(1)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_environment(cls, env: Environment, environ: Mapping[str, str] = os.environ) -> DependencyMonitor | None:
        url = redis_url(environ) if uses_redis(env) else None
        return cls({"redis": url}) if url else None

    def down(self) -> list[str]:
        return sorted(name for name, up in self.state.items() if not up)

    def degraded(self) -> bool:
        return not all(self.state.values())

    async def check_once(self) -> None:
        import redis.asyncio as aioredis

        for name, url in self.urls.items():
            client = aioredis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=1)
            try:
                ping: Any = cast(Any, client).ping()  # redis types ping as sync-or-async
                up = bool(await asyncio.wait_for(ping, CHECK_TIMEOUT_SECONDS * 2))
            except (OSError, TimeoutError, aioredis.RedisError):
                up = False
            finally:
                await client.aclose()
            if up != self.state[name]:
                log.warning("dependency %s", "back" if up else "down: serving degraded", extra={"dependency": name})
            self.state[name] = up
            self.gauge.labels(name).set(1 if up else 0)

    async def _run(self) -> None:
        while True:
            await self.check_once()
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="gatekit-dependencies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
