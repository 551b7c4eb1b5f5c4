"""Per-process runtime state shared by the middleware, the config syncer and the drain logic.

Everything here is touched from the event loop only (or, for `begin_drain`, from a signal handler that only flips a
flag and records a deadline), so plain attributes suffice. In a multi-worker replica each worker has its own state;
what the workers share (the in-flight sum for backpressure, each worker's config status) goes through the replica
directory (gatekit/runtime/replica.py)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gatekit.config import Environment
from gatekit.render.sync_document import config_version
from gatekit.runtime.metrics import RuntimeMetrics, default_metrics
from gatekit.runtime.replica import InFlightSlots, Replica, current_worker


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
        self.worker = current_worker()
        self.worker_label = str(self.worker)
        self.replica = Replica.from_environ()
        self.slots = InFlightSlots(self.replica, self.worker) if self.replica else None
        self._in_flight = 0
        self.active_streams = 0
        self.draining = False
        self.ready = False
        self.drain_deadline: float | None = None
        self.frozen_objects = 0  # objects kept out of full garbage collections (runtime/heap.py), set at startup
        self.publish_config()

    @property
    def in_flight(self) -> int:
        """Requests this worker is serving."""
        return self._in_flight

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        self._in_flight = value
        if self.slots is not None:
            self.slots.set(value)

    def replica_in_flight(self) -> int:
        """Requests the whole replica is serving (all workers): what `max_in_flight` limits."""
        return self.slots.total() if self.slots is not None else self._in_flight

    @property
    def max_in_flight(self) -> int:
        return self.env.gateway.backpressure.max_in_flight

    def publish_config(self) -> None:
        self.version_header = self.config.version.encode()
        self.metrics.config.info({"version": self.config.version, "source": self.config.source})
        self.publish_status()

    def worker_status(self) -> dict[str, Any]:
        from gatekit.routing.status import artifact_version, routing_ready

        return {
            "worker": self.worker,
            "pid": os.getpid(),
            "ready": self.ready,
            "draining": self.draining,
            **self.config.as_dict(),
            # each worker loads and reloads its own ML routing artifact
            "routing_ready": routing_ready(),
            "routing_artifact": artifact_version(),
            "heap_frozen_objects": self.frozen_objects,
        }

    def worker_statuses(self) -> list[dict[str, Any]]:
        """Every worker's status (this one's fresh, the others' as last written)."""
        if self.replica is None:
            return [self.worker_status()]
        return [self.worker_status() if s["worker"] == self.worker else s for s in self.replica.statuses()]

    def publish_status(self) -> None:
        if self.replica is not None:
            self.replica.write_status(self.worker, self.worker_status())

    def started(self) -> None:
        """LiteLLM and gatekit's runtime are up in this worker (the supervisor waits for every worker's)."""
        self.ready = True
        self.publish_status()

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
        self.publish_status()

    def config_checked(self) -> None:
        self.config.last_checked_at = _now()
        self.publish_status()

    def begin_drain(self) -> None:
        if self.draining:
            return
        self.draining = True
        self.drain_deadline = time.monotonic() + self.env.gateway.drain.budget_seconds
        self.metrics.draining.set(1)
        self.publish_status()

    def drained(self) -> bool:
        """True once nothing is in flight, or the budget is spent.

        In a multi-worker replica: nothing in flight on any worker. The workers drain together and stop together,
        because each worker's listening socket gets its share of new connections until it closes (ADR 0032): a worker
        that stopped early would leave the connections queued on its socket to be reset, not answered."""
        if not self.draining:
            return False
        assert self.drain_deadline is not None
        return self.replica_in_flight() == 0 or time.monotonic() >= self.drain_deadline
