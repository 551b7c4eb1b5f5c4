"""Observe the agent gateways (ASGI middleware): every MCP tool call / tool listing and every A2A agent invocation
becomes a `gatekit.mcp` or `gatekit.agent` client span (child of the request span) and lands in Prometheus metrics
per server or agent, operation and outcome.

Trace context: the request's `traceparent` is replaced by this span's before LiteLLM sees the request; LiteLLM
forwards it to the MCP server or agent (their `extra_headers`, see gatekit/render/agents.py), so the peer's own
spans continue the caller's trace under the gateway's span."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatekit.config import Environment
from gatekit.render.agents import agent_id

MAX_BODY = 1_000_000
_A2A = re.compile(r"^/(?:v1/)?a2a/(?P<agent>[^/]+)(?P<rest>/.*)?$")
_MCP_REST_CALL = "/mcp-rest/tools/call"
_MCP_LIST = ("/mcp-rest/tools/list", "/v1/mcp/tools")
_MCP_PROTOCOL = re.compile(r"^(?:/mcp(?:/(?P<server>[^/]+))?|/(?P<server2>[^/]+)/mcp)/?$")


class AgentMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        labels = ("kind", "target", "operation")
        self.latency = Histogram(
            "gatekit_agent_gateway_call_seconds",
            "MCP tool calls/listings and A2A agent invocations through the gateway, by outcome.",
            (*labels, "outcome"),
            registry=registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.errors = Counter(
            "gatekit_agent_gateway_errors",
            "MCP and A2A calls that failed (HTTP status >= 400 or a JSON-RPC / tool error).",
            labels,
            registry=registry,
        )


_default: AgentMetrics | None = None


def default_agent_metrics() -> AgentMetrics:
    global _default
    if _default is None:
        _default = AgentMetrics()
    return _default


@dataclass
class Call:
    kind: str  # mcp | agent
    target: str  # server or agent name ("unknown" when it names nothing configured)
    operation: str  # tools/call, tools/list, message/send, message/stream, card
    tool: str | None = None


class AgentObserver:
    def __init__(
        self,
        app: ASGIApp,
        env: Callable[[], Environment],
        metrics: AgentMetrics | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.app = app
        self.env = env  # the config serving now (hot reload changes it)
        self.metrics = metrics or default_agent_metrics()
        self.tracer = tracer or trace.get_tracer("gatekit")

    @property
    def servers(self) -> list[str]:
        return sorted(self.env().gateway.mcp_servers, key=len, reverse=True)

    @property
    def agents(self) -> dict[str, str]:
        names = list(self.env().gateway.agents)
        return {**{agent_id(n): n for n in names}, **{n: n for n in names}}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._may_observe(scope["path"]):
            await self.app(scope, receive, send)
            return
        body, receive = await _buffer(receive) if scope["method"] == "POST" else (b"", receive)
        call = self._classify(scope["path"], body)
        if call is None:
            await self.app(scope, receive, send)
            return
        await self._observed(call, scope, receive, send)

    def _may_observe(self, path: str) -> bool:
        return bool(_A2A.match(path) or path == _MCP_REST_CALL or path in _MCP_LIST or _MCP_PROTOCOL.match(path))

    def _server_of_tool(self, tool: str) -> str:
        return next((s for s in self.servers if tool.startswith(f"{s}-")), "unknown")

    def _classify(self, path: str, body: bytes) -> Call | None:
        payload = _json(body)
        if match := _A2A.match(path):
            agent = self.agents.get(match["agent"], "unknown")
            if (match["rest"] or "").startswith("/.well-known/"):
                return Call("agent", agent, "card")
            method = str(payload.get("method", "")) if payload else ""
            return Call("agent", agent, method or "message/send")
        if path == _MCP_REST_CALL:
            tool = str(payload.get("name", "")) if payload else ""
            return Call("mcp", self._server_of_tool(tool), "tools/call", tool)
        if path in _MCP_LIST:
            return Call("mcp", "all", "tools/list")
        match = _MCP_PROTOCOL.match(path)
        if match and payload and payload.get("method") in ("tools/call", "tools/list"):
            server = match["server"] or match["server2"]
            params: Any = payload.get("params") or {}
            tool = str(cast(dict[str, Any], params).get("name", "")) if isinstance(params, dict) else ""
            if payload["method"] == "tools/list":
                return Call("mcp", server or "all", "tools/list")
            return Call("mcp", server or self._server_of_tool(tool), "tools/call", tool)
        return None

    async def _observed(self, call: Call, scope: Scope, receive: Receive, send: Send) -> None:
        attributes: dict[str, Any] = {
            f"gatekit.{call.kind}.{'server' if call.kind == 'mcp' else 'agent'}": call.target,
            f"gatekit.{call.kind}.operation": call.operation,
        }
        if call.tool:
            attributes["gatekit.mcp.tool"] = call.tool
        status = 500
        error: str | None = None
        sniff = bytearray()
        streaming = False
        started = time.perf_counter()
        # Child of the request span; without one (the observer used on its own), of the caller's traceparent.
        parent = None
        if not trace.get_current_span().get_span_context().is_valid:
            carrier = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            parent = propagate.extract(carrier)
        name = f"gatekit.{call.kind}"
        with self.tracer.start_as_current_span(
            name, context=parent, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            outgoing: dict[str, str] = {}
            propagate.inject(outgoing)  # W3C, plus X-Ray when observability.xray (telemetry.py)
            scope = _with_headers(scope, outgoing)

            async def send_hook(message: Message) -> None:
                nonlocal status, streaming
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    headers = dict(message.get("headers") or [])
                    streaming = headers.get(b"content-type", b"").startswith(b"text/event-stream")
                elif message["type"] == "http.response.body" and not streaming and len(sniff) < MAX_BODY:
                    sniff.extend(message.get("body", b""))
                await send(message)

            try:
                await self.app(scope, receive, send_hook)
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:
                error = error or _error_of(status, bytes(sniff))
                span.set_attribute("http.response.status_code", status)
                if error:
                    span.set_status(trace.Status(trace.StatusCode.ERROR, error[:200]))
                elapsed = time.perf_counter() - started
                labels = (call.kind, call.target, call.operation)
                self.metrics.latency.labels(*labels, "error" if error else "ok").observe(elapsed)
                if error:
                    self.metrics.errors.labels(*labels).inc()


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return b"".join(chunks), replay


def _json(body: bytes) -> dict[str, Any] | None:
    if not body or len(body) > MAX_BODY:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def _error_of(status: int, body: bytes) -> str | None:
    if status >= 400:
        return f"HTTP {status}"
    payload = _json(body)
    if payload is None:
        return None
    error: Any = payload.get("error")
    if isinstance(error, dict):
        fields = cast(dict[str, Any], error)
        return f"JSON-RPC {fields.get('code')}: {str(fields.get('message'))[:120]}"
    result: Any = payload.get("result") if "jsonrpc" in payload else payload
    if isinstance(result, dict) and cast(dict[str, Any], result).get("isError") is True:
        return "tool error"
    return None


def _with_headers(scope: Scope, values: dict[str, str]) -> Scope:
    names = {k.lower().encode() for k in values}
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in names]
    headers += [(k.lower().encode(), v.encode()) for k, v in values.items()]
    return {**scope, "headers": headers}
