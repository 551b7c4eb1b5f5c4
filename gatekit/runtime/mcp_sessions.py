"""LiteLLM's MCP session managers (streamable HTTP, stateless and stateful), started and stopped in the lifespan task.

Each manager runs inside an anyio task group. LiteLLM enters them lazily, on the first MCP request, inside that
request's task, and exits them from the lifespan task at shutdown. anyio refuses to exit a cancel scope in another
task than the one that entered it ("Attempted to exit cancel scope in a different task", then "generator didn't stop
after athrow()"): the task groups are never closed, their sessions are never cancelled, and once MCP sessions were
served the drained process lingered about a minute after SIGTERM. gatekit enters the managers itself, in the lifespan
task, when the gateway starts (LiteLLM's lazy start then finds them running) and exits them there at shutdown, after
the drain: open sessions are cancelled and the process exits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("gatekit.runtime")


def _litellm_hooks() -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]] | None:
    """LiteLLM's (initialize, shutdown) pair, or None when its MCP server is not available (no `mcp` package)."""
    from litellm.proxy._experimental.mcp_server import server

    start = getattr(server, "initialize_session_managers", None)
    stop = getattr(server, "shutdown_session_managers", None)
    if start is None or stop is None:
        return None
    return start, stop


class McpSessions:
    def __init__(self, required: bool) -> None:
        self.required = required  # MCP servers are configured: the gateway cannot serve them without the managers
        self._stop: Callable[[], Awaitable[Any]] | None = None

    async def start(self) -> None:
        hooks = _litellm_hooks()
        if hooks is None:
            if self.required:
                raise RuntimeError(
                    "gateway.mcp_servers are configured but LiteLLM's MCP server is not available "
                    "(the `mcp` package is missing from the install)"
                )
            return
        start, self._stop = hooks
        await start()

    async def stop(self) -> None:
        if self._stop is None:
            return
        stop, self._stop = self._stop, None
        await stop()
        log.info("mcp sessions closed")
