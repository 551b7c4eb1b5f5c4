"""The routing engine this process serves with, for the runtime's status endpoint, readiness and spans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekit.routing.engine import RoutingEngine

_active: RoutingEngine | None = None


def set_active(engine: RoutingEngine | None) -> None:
    global _active
    _active = engine


def active_engine() -> RoutingEngine | None:
    return _active


def routing_status() -> dict[str, Any]:
    """`{"enabled": false}` without ML routing; else strategy, readiness, artifact version, last error, reloads."""
    return _active.status() if _active is not None else {"enabled": False}


def routing_ready() -> bool:
    """False only when ML routing is enabled and its strategy is not loaded (on_load_failure: not-ready)."""
    return _active is None or _active.ready


def artifact_version() -> str | None:
    return _active.artifact_version if _active is not None else None
