"""The agent observer in process: which requests become spans and metrics, with which labels and outcome, and the
trace context it hands downstream. (End to end through the proxy: test_flows.py.)"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from gatekit.config import Environment, load_environment
from gatekit.render.agents import agent_id
from gatekit.runtime.agent_observer import AgentMetrics, AgentObserver

OVERRIDES = [
    "gateway.mcp_servers={tools: {url: 'http://127.0.0.1:9/mcp', public: true}, "
    "my-tools: {url: 'http://127.0.0.1:9/mcp2', public: true}}",
    "gateway.agents={echo: {card_url: 'http://127.0.0.1:9/.well-known/agent-card.json', public: true}}",
]


def downstream() -> Starlette:
    async def anything(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        headers = dict(request.headers)
        if body.get("fail") == "http":
            return JSONResponse({"detail": "denied"}, status_code=403)
        if body.get("fail") == "rpc":
            return JSONResponse({"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "agent broke"}})
        if body.get("fail") == "tool":
            return JSONResponse({"content": [], "isError": True})
        return JSONResponse({"traceparent": headers.get("traceparent"), "body": body})

    return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> tuple[TestClient, InMemorySpanExporter, CollectorRegistry]:
    monkeypatch.setenv("GATEKIT_MASTER_KEY", "sk-observer-test")
    env: Environment = load_environment("local", overrides=OVERRIDES)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = CollectorRegistry()
    app = AgentObserver(downstream(), lambda: env, AgentMetrics(registry), provider.get_tracer("test"))
    return TestClient(app), exporter, registry


def count(registry: CollectorRegistry, **labels: str) -> float:
    value = registry.get_sample_value("gatekit_agent_gateway_call_seconds_count", labels)
    return value or 0.0


def test_tool_call_is_a_span_and_a_metric_with_the_server_name(observed: Any) -> None:
    client, exporter, registry = observed
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    r = client.post(
        "/mcp-rest/tools/call",
        json={"name": "my-tools-add", "arguments": {}},
        headers={"traceparent": f"00-{trace_id}-{span_id}-01"},
    )
    assert r.status_code == 200
    (span,) = exporter.get_finished_spans()
    assert span.name == "gatekit.mcp"
    # the longest configured server name that prefixes the tool wins (`my-tools`, not `tools`)
    assert span.attributes["gatekit.mcp.server"] == "my-tools"
    assert span.attributes["gatekit.mcp.tool"] == "my-tools-add"
    assert format(span.context.trace_id, "032x") == trace_id
    # downstream sees the same trace, under the observer's span (not the caller's)
    forwarded = r.json()["traceparent"]
    assert forwarded == f"00-{trace_id}-{span.context.span_id:016x}-01"
    assert r.json()["body"] == {"name": "my-tools-add", "arguments": {}}  # the body reached LiteLLM intact
    labels = {"kind": "mcp", "target": "my-tools", "operation": "tools/call"}
    assert count(registry, **labels, outcome="ok") == 1


@pytest.mark.parametrize(
    ("path", "body", "kind", "target", "operation"),
    [
        ("/a2a/echo", {"method": "message/send", "fail": "rpc"}, "agent", "echo", "message/send"),
        (f"/a2a/{agent_id('echo')}", {"method": "message/stream", "fail": "http"}, "agent", "echo", "message/stream"),
        ("/mcp-rest/tools/call", {"name": "tools-add", "fail": "tool"}, "mcp", "tools", "tools/call"),
        (
            "/mcp/tools",
            {"method": "tools/call", "params": {"name": "tools-x"}, "fail": "http"},
            "mcp",
            "tools",
            "tools/call",
        ),
    ],
)
def test_failures_count_as_errors(
    observed: Any, path: str, body: dict[str, Any], kind: str, target: str, operation: str
) -> None:
    client, exporter, registry = observed
    client.post(path, json=body)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    labels = {"kind": kind, "target": target, "operation": operation}
    assert count(registry, **labels, outcome="error") == 1
    assert registry.get_sample_value("gatekit_agent_gateway_errors_total", labels) == 1


def test_other_requests_pass_through_unobserved(observed: Any) -> None:
    client, exporter, _ = observed
    assert client.post("/v1/chat/completions", json={"model": "x"}).status_code == 200
    assert client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "initialize"}).status_code == 200
    assert exporter.get_finished_spans() == ()


def test_agent_card_and_unknown_agent(observed: Any) -> None:
    client, _, registry = observed
    client.get("/a2a/echo/.well-known/agent-card.json")
    client.post("/a2a/somebody", json={"method": "message/send"})
    assert count(registry, kind="agent", target="echo", operation="card", outcome="ok") == 1
    assert count(registry, kind="agent", target="unknown", operation="message/send", outcome="ok") == 1


def test_xray_header_is_handed_on_when_xray_is_on(observed: Any) -> None:
    from opentelemetry import propagate
    from opentelemetry.propagators.aws import AwsXRayPropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    client, exporter, _ = observed
    before = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([AwsXRayPropagator(), TraceContextTextMapPropagator()]))
    try:
        app = client.app

        async def headers_of(request: Request) -> Response:
            return JSONResponse(dict(request.headers))

        app.app = Starlette(routes=[Route("/a2a/echo", headers_of, methods=["POST"])])
        got = client.post("/a2a/echo", json={"method": "message/send"}).json()
    finally:
        propagate.set_global_textmap(before)
    (span,) = exporter.get_finished_spans()
    trace_id = format(span.context.trace_id, "032x")
    assert got["x-amzn-trace-id"].startswith(f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={span.context.span_id:016x}")
    assert got["traceparent"].split("-")[2] == f"{span.context.span_id:016x}"
