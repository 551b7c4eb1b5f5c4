"""The gatekit ASGI middleware around LiteLLM's proxy app: drain, backpressure, config-version and trace headers,
request spans and log lines, `/metrics` and `GET /gatekit/config`. It also hooks the ASGI lifespan so the config
syncer starts after LiteLLM's own startup (when its router exists) and stops before LiteLLM shuts down."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatekit.routing.feedback import FEEDBACK_PATH, FeedbackStore, feedback_file
from gatekit.routing.feedback import handle as handle_feedback
from gatekit.routing.status import active_engine, routing_ready, routing_status
from gatekit.runtime.auth_guard import presented_keys
from gatekit.runtime.metrics import exposition
from gatekit.runtime.readiness import database_readiness
from gatekit.runtime.state import RuntimeState
from gatekit.runtime.telemetry import Telemetry

VERSION_HEADER = b"x-gatekit-config-version"
READINESS_PATH = "/health/readiness"
HEALTH_PATHS = frozenset({"/health/liveliness", "/health/liveness", READINESS_PATH})
METRICS_PATH = "/metrics"
STATUS_PATH = "/gatekit/config"

Hook = Callable[[], Awaitable[None]]
log = logging.getLogger("gatekit.runtime")


async def _respond(
    send: Send, status: int, body: dict[str, Any] | bytes, headers: list[tuple[bytes, bytes]], content_type: bytes
) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = [(b"content-type", content_type), (b"content-length", str(len(payload)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": payload})


class GatekitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        state: RuntimeState,
        telemetry: Telemetry | None = None,
        master_key: str | None = None,
        on_startup: Hook | None = None,
        on_shutdown: Hook | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.telemetry = telemetry
        self.master_key = master_key.encode() if master_key else None
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self._feedback_store: FeedbackStore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in HEALTH_PATHS:
            await self._health(scope, receive, send)
        elif path == METRICS_PATH:
            body = exposition(self.state.metrics)  # the whole replica's view, whichever worker answers
            await _respond(send, 200, body, self._base_headers(), CONTENT_TYPE_LATEST.encode())
        elif path == STATUS_PATH:
            await self._status(scope, send)
        elif path == FEEDBACK_PATH and scope.get("method") == "POST":
            await self._feedback(scope, receive, send)
        elif self.state.draining:
            self.state.metrics.refused_draining.inc()
            await self._unavailable(send, "draining: this replica is shutting down", close=True)
        elif self.state.replica_in_flight() >= self.state.max_in_flight:  # per replica: summed over workers
            self.state.metrics.shed.inc()
            await self._unavailable(send, f"overloaded: {self.state.max_in_flight} requests in flight", close=False)
        else:
            await self._serve(scope, receive, send)

    def _base_headers(self) -> list[tuple[bytes, bytes]]:
        return [(VERSION_HEADER, self.state.version_header)]

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_hook() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self.on_shutdown is not None:
                await self.on_shutdown()
            return message

        async def send_hook(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete" and self.on_startup is not None:
                try:
                    await self.on_startup()
                except Exception as exc:
                    log.exception("gatekit runtime failed to start")
                    await send({"type": "lifespan.startup.failed", "message": f"gatekit runtime: {exc}"})
                    return
            if message["type"] == "lifespan.startup.complete":
                self.state.started()
            await send(message)

        await self.app(scope, receive_hook, send_hook)

    async def _health(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == READINESS_PATH and self.state.draining:
            await _respond(send, 503, {"status": "draining"}, self._base_headers(), b"application/json")
            return
        if scope["path"] == READINESS_PATH and not routing_ready():
            # ML routing with `on_load_failure: not-ready` whose strategy did not load: out of rotation, loudly.
            body = {"status": "routing-unavailable", "routing": routing_status()}
            await _respond(send, 503, body, self._base_headers(), b"application/json")
            return
        if scope["path"] == READINESS_PATH and self.state.started_with.database.enabled:
            # Ready only with the database connected (never DB-less by accident): gatekit.runtime.readiness.
            await database_readiness(self.app, scope, receive, send, self._base_headers(), _respond)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._base_headers()]
            await send(message)

        await self.app(scope, receive, send_with_version)

    async def _refuse_without_master_key(self, scope: Scope, send: Send) -> bool:
        keys = presented_keys(scope.get("headers", []))
        if self.master_key is None or not keys or not all(hmac.compare_digest(k, self.master_key) for k in keys):
            body = {"error": {"message": "Authentication Error: master key required", "type": "auth_error"}}
            headers = [*self._base_headers(), (b"www-authenticate", b"Bearer")]
            await _respond(send, 401, body, headers, b"application/json")
            return True
        return False

    async def _feedback(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /gatekit/feedback (issue 13): outcome records for the routing trainer; master key only."""
        if await self._refuse_without_master_key(scope, send):
            return
        if self._feedback_store is None:
            self._feedback_store = FeedbackStore(feedback_file())
        engine = active_engine()
        tiers = engine.spec.tier_names if engine is not None else None
        status, body = await handle_feedback(receive, tiers, self._feedback_store)
        await _respond(send, status, body, self._base_headers(), b"application/json")

    async def _status(self, scope: Scope, send: Send) -> None:
        if await self._refuse_without_master_key(scope, send):
            return
        # This worker's status at the top level (as with one worker), and every worker's (multi-worker replicas:
        # each worker syncs on its own; `converged` says they all serve the same version).
        workers = self.state.worker_statuses()
        versions = {w.get("version") for w in workers}
        body = {
            **self.state.config.as_dict(),
            "routing": routing_status(),
            "worker": self.state.worker,
            "workers": workers,
            "converged": len(versions) == 1 and None not in versions,
        }
        await _respond(send, 200, body, self._base_headers(), b"application/json")

    async def _unavailable(self, send: Send, reason: str, close: bool) -> None:
        retry_after = str(self.state.env.gateway.backpressure.retry_after_seconds).encode()
        headers = [*self._base_headers(), (b"retry-after", retry_after)]
        if close:
            headers.append((b"connection", b"close"))
        body = {"error": {"message": reason, "type": "service_unavailable", "code": "503"}}
        await _respond(send, 503, body, headers, b"application/json")

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        state.in_flight += 1
        state.metrics.in_flight.inc()
        state.metrics.requests.labels(state.worker_label).inc()
        started = time.perf_counter()
        streaming = False
        status = 0

        async def send_hook(message: Message) -> None:
            nonlocal streaming, status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), *self._base_headers()]
                if span is not None:
                    headers += self.telemetry.response_headers(span) if self.telemetry else []
                    span.set_attribute("http.response.status_code", status)
                message["headers"] = headers
                if any(k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in headers):
                    streaming = True
                    state.active_streams += 1
                    state.metrics.active_streams.inc()
            elif message["type"] == "http.response.body" and streaming and not message.get("more_body", False):
                streaming = False
                state.active_streams -= 1
                state.metrics.active_streams.dec()
            await send(message)

        span: trace.Span | None = None
        try:
            if self.telemetry is None:
                await self.app(scope, receive, send_hook)
                self._log(scope, status, started)
            else:
                parent = self.telemetry.extract(scope.get("headers", []))
                attributes = {"http.request.method": scope["method"], "url.path": scope["path"]}
                with self.telemetry.tracer.start_as_current_span(
                    "gatekit.request", context=parent, kind=SpanKind.SERVER, attributes=attributes
                ) as span:
                    await self.app(scope, receive, send_hook)
                    self._log(scope, status, started)
        finally:
            state.in_flight -= 1
            state.metrics.in_flight.dec()
            if streaming:
                state.active_streams -= 1
                state.metrics.active_streams.dec()

    def _log(self, scope: Scope, status: int, started: float) -> None:
        if log.isEnabledFor(logging.INFO):
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            extra = {"method": scope["method"], "path": scope["path"], "status": status, "duration_ms": duration_ms}
            log.info("request", extra=extra)
