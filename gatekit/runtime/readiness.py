"""Readiness for a database-configured gateway: ready only while LiteLLM's database is connected.

LiteLLM's /health/readiness answers 200 `{"db": "Not connected"}` when it has no database client at all (the DB-less
mode), so a replica whose DATABASE_URL never reached LiteLLM would look healthy. With `database.enabled`, gatekit
takes the answer apart: 200 only when LiteLLM reports `"db": "connected"`; otherwise 503 with the reason."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Responder = Callable[[Send, int, dict[str, Any], list[tuple[bytes, bytes]], bytes], Awaitable[None]]


def _reason(status: int, body: Any) -> str | None:
    """None when ready; else why not."""
    db = cast(dict[str, Any], body).get("db") if isinstance(body, dict) else None
    if status == 200 and db == "connected":
        return None
    if db == "Not connected":
        return (
            "database.enabled is true but LiteLLM has no database client: DATABASE_URL did not reach it at start "
            "(the gateway would run DB-less: no virtual keys, budgets or spend)"
        )
    if db is None:
        return f"LiteLLM's readiness did not report the database (HTTP {status})"
    return f"the database is {db}"


async def database_readiness(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]], respond: Responder
) -> None:
    """Call LiteLLM's readiness, then answer it ourselves: its body when ready, 503 + reason when not."""
    status = 0
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    reason = _reason(status, body)
    if reason is None and isinstance(body, dict):  # ready implies a JSON object that reported the database
        await respond(send, 200, cast(dict[str, Any], body), headers, b"application/json")
        return
    db = cast(dict[str, Any], body).get("db") if isinstance(body, dict) else None
    await respond(
        send, 503, {"status": "database-unavailable", "db": db, "reason": reason}, headers, b"application/json"
    )
