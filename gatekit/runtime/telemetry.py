"""OpenTelemetry for the gateway: X-Ray trace ids, X-Ray + W3C propagation, OTLP/HTTP export, and the spans gatekit
owns (request, routing decision, upstream call).

`configure_telemetry` must run before LiteLLM loads its config: LiteLLM's `otel` callback reuses a global SDK
TracerProvider when one is set and only creates its own when none is, so setting ours first makes every LiteLLM span
carry X-Ray ids and go to the same exporter."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gatekit.config import Environment
from gatekit.routing.engine import Decision

TRACER_NAME = "gatekit"
TRACE_ID_HEADER = b"x-gatekit-trace-id"
XRAY_HEADER = b"x-amzn-trace-id"


class _HeaderGetter(Getter[Mapping[str, str]]):
    """Case-insensitive getter: ASGI header names are lower case, the X-Ray propagator asks for `X-Amzn-Trace-Id`."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


HEADER_GETTER = _HeaderGetter()


@dataclass
class Telemetry:
    provider: TracerProvider
    tracer: Tracer
    propagator: TextMapPropagator
    xray: bool

    def extract(self, headers: Iterable[tuple[bytes, bytes]]) -> otel_context.Context:
        carrier = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
        return self.propagator.extract(carrier, getter=HEADER_GETTER)

    def response_headers(self, span: Span) -> list[tuple[bytes, bytes]]:
        ctx = span.get_span_context()
        if not ctx.is_valid:
            return []
        trace_id = format(ctx.trace_id, "032x")
        headers = [(TRACE_ID_HEADER, trace_id.encode())]
        if self.xray:
            sampled = "1" if ctx.trace_flags.sampled else "0"
            value = f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={ctx.span_id:016x};Sampled={sampled}"
            headers.append((XRAY_HEADER, value.encode()))
        return headers


_active: Telemetry | None = None


def configure_telemetry(env: Environment, exporter: SpanExporter | None = None, set_global: bool = True) -> Telemetry:
    """Build the tracer provider from `observability`. `exporter` adds a synchronous exporter (tests); the OTLP
    exporter is added when `observability.otlp_endpoint` is set."""
    global _active
    obs = env.observability
    resource = Resource.create({"service.name": f"{env.deployment.prefix}-gateway", "deployment.environment": env.name})
    provider = TracerProvider(
        resource=resource,
        id_generator=AwsXRayIdGenerator(),
        sampler=ParentBased(TraceIdRatioBased(obs.traces_sample_ratio)),
    )
    if obs.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = obs.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    parts: list[TextMapPropagator] = [AwsXRayPropagator()] if obs.xray else []
    parts += [TraceContextTextMapPropagator(), W3CBaggagePropagator()]
    propagator = CompositePropagator(parts)
    if set_global:
        trace.set_tracer_provider(provider)
        propagate.set_global_textmap(propagator)
    _active = Telemetry(provider, provider.get_tracer(TRACER_NAME), propagator, obs.xray)
    return _active


def active_telemetry() -> Telemetry | None:
    return _active


def _tracer() -> Tracer:
    return _active.tracer if _active is not None else trace.get_tracer(TRACER_NAME)


def record_route_decision(
    strategy: str,
    candidates: Sequence[str],
    selected: str,
    score: float | None = None,
    latency_ms: float | None = None,
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> None:
    """Record one routing decision as a `gatekit.route` span under the current request span.

    Called by routing strategies (gatekit.routing) right after they choose; `latency_ms` is the time the decision
    took and becomes the span's duration."""
    end_ns = time.time_ns()
    start_ns = end_ns - int((latency_ms or 0.0) * 1_000_000)
    attrs: dict[str, Any] = {
        "gatekit.route.strategy": strategy,
        "gatekit.route.candidates": list(candidates),
        "gatekit.route.selected": selected,
    }
    if score is not None:
        attrs["gatekit.route.score"] = float(score)
    if latency_ms is not None:
        attrs["gatekit.route.latency_ms"] = float(latency_ms)
    attrs.update(attributes or {})
    span = _tracer().start_span("gatekit.route", kind=SpanKind.INTERNAL, attributes=attrs, start_time=start_ns)
    span.end(end_time=end_ns)


def route_span(decision: Decision) -> None:
    """The decision observer the runtime registers with gatekit.routing.observers (runtime/app.py)."""
    record_route_decision(
        decision.strategy,
        decision.candidates,
        decision.tier,
        score=decision.score,
        latency_ms=decision.latency_ms,
        attributes={
            "gatekit.route.profile": decision.profile,
            "gatekit.route.artifact": decision.artifact_version or "",
        },
    )


def record_upstream_call(
    start_ns: int,
    end_ns: int,
    model: str,
    deployment: str | None,
    provider: str | None,
    error: str | None = None,
    parent: otel_context.Context | None = None,
) -> None:
    """Record one upstream (provider) call as a `gatekit.upstream` client span."""
    attrs: dict[str, Any] = {"gen_ai.request.model": model}
    if deployment:
        attrs["gatekit.upstream.deployment"] = deployment
    if provider:
        attrs["gen_ai.system"] = provider
    span = _tracer().start_span(
        "gatekit.upstream", context=parent, kind=SpanKind.CLIENT, attributes=attrs, start_time=start_ns
    )
    if error is not None:
        span.set_status(trace.Status(trace.StatusCode.ERROR, error[:200]))
    span.end(end_time=end_ns)
