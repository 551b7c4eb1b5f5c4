"""What gatekit starts once LiteLLM's own startup has finished (its router exists), and stops before LiteLLM
shuts down: the upstream-span callback, LiteLLM's MCP session managers (runtime/mcp_sessions.py) and the config
syncer. Last, before the worker reports ready, its startup heap is frozen out of the garbage collector's full
collections (runtime/heap.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litellm.router import Router

from gatekit.runtime.apply import RouterApplier
from gatekit.runtime.heap import freeze_startup_heap
from gatekit.runtime.mcp_sessions import McpSessions
from gatekit.runtime.sources import ConfigSource
from gatekit.runtime.state import RuntimeState
from gatekit.runtime.sync import ConfigSyncer

log = logging.getLogger("gatekit.runtime")

FIRST_POLL_TIMEOUT_SECONDS = 20.0


def litellm_router() -> Router | None:
    from litellm.proxy import proxy_server

    return proxy_server.llm_router


class RuntimeLifecycle:
    def __init__(self, state: RuntimeState, source: ConfigSource | None) -> None:
        self.state = state
        self.source = source
        self.syncer: ConfigSyncer | None = None
        self.task: asyncio.Task[None] | None = None
        self.mcp_sessions = McpSessions(required=bool(state.env.gateway.mcp_servers))

    async def startup(self) -> None:
        await self._start()
        self.state.frozen_objects = freeze_startup_heap()

    async def _start(self) -> None:
        import litellm

        from gatekit.runtime.callbacks import UpstreamSpanLogger

        if self.state.env.observability.otlp_endpoint:
            # Upstream spans are only worth building when something exports them.
            litellm.logging_callback_manager.add_litellm_callback(UpstreamSpanLogger())
        # In this (the lifespan) task, so that shutdown can close them: see runtime/mcp_sessions.py.
        await self.mcp_sessions.start()
        if self.source is None:
            log.info("config sync off: no gateway.config_sync.uri; serving the startup config", extra=self._where())
            return
        self.syncer = ConfigSyncer(self.state, self.source, RouterApplier(litellm_router, self.state.env))
        # The first poll happens before the replica reports ready, so every replica serves the source's version.
        try:
            await asyncio.wait_for(self.syncer.poll_once(), FIRST_POLL_TIMEOUT_SECONDS)
        except TimeoutError:
            self.state.config_rejected(f"first poll of {self.source.description} timed out")
        self.task = asyncio.create_task(self._loop(), name="gatekit-config-sync")
        log.info("config sync started", extra={**self._where(), "version": self.state.config.version})

    async def _loop(self) -> None:
        assert self.syncer is not None
        await self.syncer.run()

    async def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        await self.mcp_sessions.stop()

    def _where(self) -> dict[str, str | None]:
        return {"source": self.source.description if self.source else None}
