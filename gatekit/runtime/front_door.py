"""The gateway's own front door: exposure and body limits composed around the gatekit middleware, reading the
live config (a hot reload that changes `gateway.exposure` applies to the next request)."""

from __future__ import annotations

from starlette.types import ASGIApp

from gatekit.config.exposure import Exposure, trusted_proxies
from gatekit.runtime.body_limits import BodyLimit
from gatekit.runtime.exposure import ExposureGuard
from gatekit.runtime.state import RuntimeState


def front_door(app: ASGIApp, state: RuntimeState, master_key: str) -> ExposureGuard:
    def exposure() -> Exposure:
        return state.env.gateway.exposure

    def proxies() -> list[str]:
        return trusted_proxies(state.env)

    def rejected(status: int) -> None:
        state.metrics.body_rejected.labels(status=str(status)).inc()

    def refused() -> None:
        state.metrics.exposure_refused.inc()

    limited = BodyLimit(app, exposure, on_reject=rejected)
    return ExposureGuard(limited, exposure, proxies, master_key, on_refused=refused)
