"""gatekit's Prometheus metrics. They live in the default registry, beside LiteLLM's own (its `prometheus`
callback registers there too), so one `/metrics` scrape returns both.

A multi-worker replica runs prometheus_client in multiprocess mode ($PROMETHEUS_MULTIPROC_DIR, set by the
supervisor): every worker writes its values to the replica's metrics directory, and `/metrics` on any worker returns
the replica's view (`exposition`): counters summed, the in-flight and stream gauges summed over live workers,
`gatekit_draining` the maximum, and `gatekit_config_info` once per worker (Info metrics do not work across processes;
it is read from the workers' status files)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client.core import InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from gatekit.runtime.replica import MULTIPROC_ENV, Replica


class RuntimeMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.config = Info("gatekit_config", "Config version this replica serves, and its source.", registry=registry)
        self.reloads = Counter("gatekit_config_reloads", "Config documents applied after startup.", registry=registry)
        self.reload_failures = Counter(
            "gatekit_config_reload_failures",
            "Config documents rejected (unreadable, invalid, or not applicable); the old config kept serving.",
            registry=registry,
        )
        self.in_flight = Gauge(
            "gatekit_in_flight_requests",
            "Requests this replica is serving (all workers).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.active_streams = Gauge(
            "gatekit_active_streams",
            "Streaming responses in progress (all workers).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.requests = Counter(
            "gatekit_requests",
            "Requests admitted past drain and backpressure, by the worker process that served them.",
            ["worker"],
            registry=registry,
        )
        self.connections = Counter(
            "gatekit_connections",
            "TCP connections accepted, by the worker process that accepted them (keep-alive requests follow them).",
            ["worker"],
            registry=registry,
        )
        self.shed = Counter(
            "gatekit_shed_requests", "Requests answered 503 because the in-flight limit was reached.", registry=registry
        )
        self.refused_draining = Counter(
            "gatekit_drain_refused_requests", "Requests refused with 503 while draining.", registry=registry
        )
        # security (issue 12): gatekit.runtime.front_door
        self.body_rejected = Counter(
            "gatekit_body_rejected_requests",
            "Requests refused for their body: 413 too large, 408 not received in time.",
            ["status"],
            registry=registry,
        )
        self.exposure_refused = Counter(
            "gatekit_exposure_refused_requests",
            "Requests for paths outside gateway.exposure (404) or /metrics without a key (401).",
            registry=registry,
        )
        self.draining = Gauge(
            "gatekit_draining",
            "1 while this replica drains after SIGTERM.",
            registry=registry,
            multiprocess_mode="livemax",
        )


_default: RuntimeMetrics | None = None


def default_metrics() -> RuntimeMetrics:
    """The process-wide metrics in the default registry (created once: Prometheus forbids duplicate names)."""
    global _default
    if _default is None:
        _default = RuntimeMetrics()
    return _default


class WorkerConfigCollector:
    """`gatekit_config_info` per worker of a multi-worker replica, from the workers' status files."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def collect(self) -> Iterator[Metric]:
        family = InfoMetricFamily(
            "gatekit_config", "Config version each worker serves, and its source.", labels=["worker"]
        )
        for status in self.replica.statuses():
            if status.get("version"):
                info = {"version": str(status["version"]), "source": str(status.get("source"))}
                family.add_metric([str(status["worker"])], info)
        yield family


def exposition(metrics: RuntimeMetrics) -> bytes:
    """The `/metrics` body: this process's registry, or the whole replica's in multiprocess mode."""
    replica = Replica.from_environ()
    if replica is None or not os.environ.get(MULTIPROC_ENV):
        return generate_latest(metrics.registry)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(replica.metrics_dir))
    registry.register(WorkerConfigCollector(replica))
    return generate_latest(registry)
