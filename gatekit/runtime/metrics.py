"""gatekit's Prometheus metrics. They live in the default registry, beside LiteLLM's own (its `prometheus`
callback registers there too), so one `/metrics` scrape returns both."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Info


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
        self.in_flight = Gauge("gatekit_in_flight_requests", "Requests this replica is serving.", registry=registry)
        self.active_streams = Gauge("gatekit_active_streams", "Streaming responses in progress.", registry=registry)
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
        self.draining = Gauge("gatekit_draining", "1 while this replica drains after SIGTERM.", registry=registry)


_default: RuntimeMetrics | None = None


def default_metrics() -> RuntimeMetrics:
    """The process-wide metrics in the default registry (created once: Prometheus forbids duplicate names)."""
    global _default
    if _default is None:
        _default = RuntimeMetrics()
    return _default
