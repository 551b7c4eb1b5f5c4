"""Count the TCP connections each worker accepts (`gatekit_connections_total{worker}`).

Keep-alive clients send many requests over one connection, so which worker accepted a connection decides which
worker serves its requests: this counter is what shows whether a multi-worker replica spreads its load (ADR 0032).
uvicorn takes an HTTP protocol class; gatekit passes its default one (httptools when installed, else h11) with a
hook on `connection_made`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def counting_protocol(on_connection: Callable[[], None]) -> type[asyncio.Protocol]:
    """uvicorn's default HTTP protocol, calling `on_connection` for every connection it accepts."""

    class CountingHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: Any) -> None:
            on_connection()
            super().connection_made(transport)

    return CountingHTTPProtocol
