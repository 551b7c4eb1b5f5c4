"""What clients see of the LiteLLM surface, as an ASGI layer in front of LiteLLM's app:

* a fallback to another tier says so: `x-gatekit-fallback: served-by=<group>; attempts=<n>` whenever LiteLLM's
  router served a request through a fallback (it reports `x-litellm-attempted-fallbacks`);
* the ML routing alias (`auto`) is listed in `/v1/models` beside the tiers it routes between;
* degraded dependencies (Redis away) are named in readiness (`x-gatekit-degraded` header and `degraded` in the
  JSON body; the status stays 200: serving continues) and in the `gatekit_dependency_up` metric."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatekit.config import Environment
from gatekit.runtime.dependencies import DependencyMonitor, dependency_gauge

FALLBACK_HEADER = b"x-gatekit-fallback"
DEGRADED_HEADER = b"x-gatekit-degraded"
MODEL_LIST_PATHS = frozenset({"/v1/models", "/models"})
READINESS_PATH = "/health/readiness"


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((v for k, v in headers if k.lower() == name), None)


class SurfaceLayer:
    def __init__(self, app: ASGIApp, env: Environment, dependencies: DependencyMonitor | None = None) -> None:
        self.app = app
        ml = env.gateway.routing.ml
        self.alias = ml.alias if ml.enabled and env.gateway.client_apis.list_routing_alias else None
        self.tiers = set(env.gateway.tiers)
        self.dependencies = dependencies
        dependency_gauge()  # the family is always on /metrics (alert rules and dashboards select on it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.dependencies is not None:
            await self.app(scope, self._stop_on_shutdown(receive), self._start_on_startup(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self.alias and scope["method"] == "GET" and path in MODEL_LIST_PATHS:
            await self._buffered(scope, receive, send, self._with_alias)
        elif path == READINESS_PATH and self.dependencies is not None and self.dependencies.degraded():
            await self._buffered(scope, receive, send, self._with_degraded)
        else:
            await self.app(scope, receive, self._fallback_send(send))

    def _start_on_startup(self, send: Send) -> Send:
        async def hook(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete" and self.dependencies is not None:
                self.dependencies.start()
            await send(message)

        return hook

    def _stop_on_shutdown(self, receive: Receive) -> Receive:
        async def hook() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self.dependencies is not None:
                await self.dependencies.stop()
            return message

        return hook

    def _fallback_send(self, send: Send) -> Send:
        async def hook(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                attempts = _header(headers, b"x-litellm-attempted-fallbacks")
                if attempts and attempts.strip() not in (b"0", b""):
                    group = _header(headers, b"x-litellm-model-group") or b"unknown"
                    headers.append((FALLBACK_HEADER, b"served-by=" + group + b"; attempts=" + attempts.strip()))
                    message["headers"] = headers
            await send(message)

        return hook

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, edit: Any) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            status, headers, body = edit(start["status"], list(start.get("headers", [])), b"".join(chunks))
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)

    def _with_alias(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any, bytes]:
        if status != 200:
            return status, headers, body
        try:
            doc = json.loads(body)
            ids = {m.get("id") for m in doc["data"]}
        except (ValueError, KeyError, TypeError, AttributeError):
            return status, headers, body
        if self.alias not in ids and ids & self.tiers:  # only where the key may call the tiers it routes to
            entry = {"id": self.alias, "object": "model", "created": int(time.time()), "owned_by": "gatekit-routing"}
            doc["data"].append(entry)
            body = json.dumps(doc).encode()
        return status, headers, body

    def _with_degraded(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any, bytes]:
        assert self.dependencies is not None
        down = self.dependencies.down()
        headers.append((DEGRADED_HEADER, ",".join(down).encode()))
        try:
            doc = json.loads(body)
        except ValueError:
            return status, headers, body  # not JSON: the header alone carries the note
        if isinstance(doc, dict):
            doc["gatekit_degraded"] = down
            body = json.dumps(doc).encode()
        return status, headers, body
