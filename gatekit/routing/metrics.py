"""Routing metrics, in the default Prometheus registry beside the runtime's and LiteLLM's."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Info


class RoutingMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.ready = Gauge(
            "gatekit_route_ready", "1 when the ML routing strategy is loaded and serving.", registry=registry
        )
        self.load_failures = Counter(
            "gatekit_route_load_failures",
            "ML router loads or reloads rejected (missing artifact or extra, checksum mismatch, bad format).",
            registry=registry,
        )
        self.reloads = Counter("gatekit_route_reloads", "ML router artifacts applied after startup.", registry=registry)
        self.decisions = Counter(
            "gatekit_route_decisions", "ML routing decisions by selected tier.", ["tier"], registry=registry
        )
        self.clamped = Counter(
            "gatekit_route_profile_clamped",
            "Requests whose profile header asked for more premium than their key/team profile allows (clamped).",
            registry=registry,
        )
        self.explorations = Counter(
            "gatekit_route_exploration",
            "Exploration answers from the other tier, by result (written | error).",
            ["result"],
            registry=registry,
        )
        self.artifact = Info("gatekit_route_artifact", "Strategy and artifact version being served.", registry=registry)


_default: RoutingMetrics | None = None


def routing_metrics() -> RoutingMetrics:
    global _default
    if _default is None:
        _default = RoutingMetrics()
    return _default
