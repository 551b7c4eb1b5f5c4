"""Bodies the gateway survives (ASGI middleware, outside the in-flight accounting).

A request body is received whole, within `gateway.exposure.body_read_timeout_seconds` and up to
`gateway.exposure.max_body_bytes`, before the request reaches the backpressure middleware; only then does it take an
in-flight slot. A declared Content-Length over the limit gets 413 before a byte of the body is read; a body that
grows past it gets 413 as soon as it does; a client that does not finish in time gets 408. Slow clients therefore
hold a coroutine and at most `max_body_bytes` of memory, never a slot, and never reach the tokenizer.

After a 413/408 the rest of the body is read and discarded for a short while (a lingering close, as web servers
do), so a client still writing reads the error instead of a connection reset."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatekit.config.exposure import Exposure

LINGER_SECONDS = 2.0
log = logging.getLogger("gatekit.runtime")


class BodyRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_body(scope: Scope) -> bool:
    length = declared_length(scope)
    if length is not None:
        return length > 0
    return any(n.lower() == b"transfer-encoding" for n, _ in scope.get("headers", []))


async def _reject(send: Send, status: int, message: str) -> None:
    kind = {413: "request_too_large", 408: "request_timeout"}.get(status, "bad_request")
    payload = json.dumps({"error": {"message": message, "type": kind, "code": str(status)}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _linger(receive: Receive) -> None:
    """Discard what the client is still sending, for at most LINGER_SECONDS."""
    try:
        async with asyncio.timeout(LINGER_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
    except TimeoutError:
        return


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        exposure: Callable[[], Exposure],
        on_reject: Callable[[int], None] | None = None,
    ) -> None:
        self.app = app
        self.exposure = exposure
        self.on_reject = on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        limits = self.exposure()
        try:
            body = await self._read(scope, receive, limits)
        except BodyRejected as exc:
            if self.on_reject is not None:
                self.on_reject(exc.status)
            log.info("body rejected", extra={"path": scope["path"], "status": exc.status, "reason": str(exc)})
            await _reject(send, exc.status, str(exc))
            await _linger(receive)
            return
        if body is None:
            return  # the client went away while sending
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive, limits: Exposure) -> bytes | None:
        limit = limits.max_body_bytes
        length = declared_length(scope)
        if length is not None and length > limit:
            raise BodyRejected(413, f"request body of {length} bytes exceeds the limit of {limit} bytes")
        chunks: list[bytes] = []
        total = 0
        deadline = limits.body_read_timeout_seconds
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    total += len(chunk)
                    if total > limit:
                        raise BodyRejected(413, f"request body exceeds the limit of {limit} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            elapsed = round(time.monotonic() - started, 1)
            raise BodyRejected(
                408, f"request body not received within {deadline:g} s ({total} bytes in {elapsed} s)"
            ) from None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: http.disconnect when the client goes away

    return replay
