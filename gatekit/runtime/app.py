"""Compose the ASGI application: LiteLLM's proxy app wrapped in gatekit middleware (public extension points only).

Outermost first: GatekitMiddleware (drain, backpressure, headers, spans, /metrics, /gatekit/config, lifespan hooks)
-> MasterKeyGuard (DB-less only) -> SurfaceLayer (fallback header, `auto` listed, degraded note) -> LiteLLM's
FastAPI app. In front of all of them (security, issue 12): ExposureGuard (reachable surface, client address) ->
BodyLimit (413/408 before any in-flight slot is taken)."""

from __future__ import annotations

import os
from typing import Any

from starlette.types import ASGIApp

from gatekit.config import Environment
from gatekit.routing.observers import add_decision_observer
from gatekit.runtime.agent_observer import AgentObserver
from gatekit.runtime.auth_guard import MasterKeyGuard
from gatekit.runtime.dependencies import DependencyMonitor
from gatekit.runtime.front_door import front_door
from gatekit.runtime.lifecycle import RuntimeLifecycle
from gatekit.runtime.middleware import GatekitMiddleware
from gatekit.runtime.sources import ConfigSource
from gatekit.runtime.state import RuntimeState
from gatekit.runtime.surface import SurfaceLayer
from gatekit.runtime.telemetry import Telemetry, route_span


def build_app(
    litellm_app: Any,
    env: Environment,
    state: RuntimeState | None = None,
    telemetry: Telemetry | None = None,
    source: ConfigSource | None = None,
) -> ASGIApp:
    state = state or RuntimeState(env)
    add_decision_observer(route_span)  # routing decisions become `gatekit.route` spans
    master_key = os.environ[env.secrets.master_key.env_var]
    app = SurfaceLayer(litellm_app, env, DependencyMonitor.for_environment(env))  # runtime/surface.py
    # MCP tool calls and A2A invocations: spans, metrics, trace context to the peers (runtime/agent_observer.py).
    # Names come from the startup config: MCP/agent changes need a restart (runtime/apply.py RESTART_PATHS).
    app = AgentObserver(app, lambda: env, tracer=telemetry.tracer if telemetry else None)
    if not env.database.enabled:
        app = MasterKeyGuard(app, master_key)
    lifecycle = RuntimeLifecycle(state, source)
    gatekit = GatekitMiddleware(
        app, state, telemetry, master_key, on_startup=lifecycle.startup, on_shutdown=lifecycle.shutdown
    )
    return front_door(gatekit, state, master_key)
