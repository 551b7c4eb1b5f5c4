"""Per-process runtime state shared by the middleware, the config syncer and the drain logic.

Everything here is touched from the event loop only (or, for `begin_drain`, from a signal handler that only flips a
flag and records a deadline), so plain attributes suffice."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gatekit.config import Environment
from gatekit.render.sync_document import config_version
from gatekit.runtime.metrics import RuntimeMetrics, default_metrics


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ConfigStatus:
    version: str
    source: str = "startup"
    uri: str | None = None
    etag: str | None = None
    applied_at: str = field(default_factory=_now)
    last_checked_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    reloads: int = 0
    failures: int = 0
    restart_required: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "uri": self.uri,
            "etag": self.etag,
            "applied_at": self.applied_at,
            "last_checked_at": self.last_checked_at,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "reloads": self.reloads,
            "failures": self.failures,
            "restart_required": self.restart_required,
        }


class RuntimeState:
    def __init__(self, env: Environment, metrics: RuntimeMetrics | None = None) -> None:
        self.env = env
        # What the process started with: restart-only settings (the database among them) keep coming from here until
        # the next start, whatever a synced document says (those changes are reported as restart_required).
        self.started_with = env
        self.metrics = metrics or default_metrics()
        sync = env.gateway.config_sync
        self.config = ConfigStatus(version=config_version(env), source=sync.source if sync.uri else "startup")
        self.config.uri = sync.uri
        self.version_header = self.config.version.encode()
        self.in_flight = 0
        self.active_streams = 0
        self.draining = False
        self.drain_deadline: float | None = None
        self.publish_config()

    @property
    def max_in_flight(self) -> int:
        return self.env.gateway.backpressure.max_in_flight

    def publish_config(self) -> None:
        self.version_header = self.config.version.encode()
        self.metrics.config.info({"version": self.config.version, "source": self.config.source})

    def config_applied(self, env: Environment, version: str, etag: str | None, restart_required: list[str]) -> None:
        self.env = env
        self.config.version = version
        self.config.etag = etag
        self.config.applied_at = _now()
        self.config.last_error = None
        self.config.last_error_at = None
        self.config.restart_required = restart_required
        self.config.reloads += 1
        self.metrics.reloads.inc()
        self.publish_config()

    def config_rejected(self, error: str) -> None:
        self.config.last_error = error
        self.config.last_error_at = _now()
        self.config.failures += 1
        self.metrics.reload_failures.inc()

    def config_checked(self) -> None:
        self.config.last_checked_at = _now()

    def begin_drain(self) -> None:
        if self.draining:
            return
        self.draining = True
        self.drain_deadline = time.monotonic() + self.env.gateway.drain.budget_seconds
        self.metrics.draining.set(1)

    def drained(self) -> bool:
        """True once nothing is in flight, or the budget is spent."""
        if not self.draining:
            return False
        assert self.drain_deadline is not None
        return self.in_flight == 0 or time.monotonic() >= self.drain_deadline
