"""The unauthenticated sweep: call every route LiteLLM's proxy defines, and gatekit's own, without a key, and report
each one that answers. Only the health probes may answer; anything else must be refused (401/403), absent (404),
the wrong method (405), or gone (410, a feature switched off). A 2xx/3xx means the route is open; a 400/422/5xx
means its handler ran without a key.

The route table is read from the installed LiteLLM (the one the image ships), not from the target's /openapi.json,
which a correctly exposed gateway does not serve."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, cast

import httpx

from gatekit.config.exposure import HEALTH_PATHS

GATEKIT_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/metrics"),
    ("GET", "/gatekit/config"),
    *(("GET", p) for p in HEALTH_PATHS),
)
# 410: LiteLLM's switched-off features (e.g. the Claude Code gateway's OTLP intake, POST /v1/traces and /v1/logs)
# answer "gone" before authenticating; they serve nothing.
REFUSED = frozenset({401, 403, 404, 405, 410})
PARAM = re.compile(r"\{[^}/]+\}")
PROBE_VALUE = "gatekit-sweep"


@dataclass(frozen=True)
class SweepHit:
    method: str
    path: str
    status: int
    allowed: bool  # a health probe: expected to answer


def litellm_routes() -> list[tuple[str, str]]:
    """(method, path template) for every HTTP and websocket route of LiteLLM's proxy app."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from litellm.proxy.proxy_server import app

    routes: set[tuple[str, str]] = set()
    for path, methods in _walk(app.routes):
        method = "GET" if "GET" in methods else ("POST" if "POST" in methods else sorted(methods)[0])
        routes.add((method, path))
    return sorted(routes, key=lambda r: (r[1], r[0]))


def _walk(routes: Iterable[Any]) -> Iterator[tuple[str, set[str]]]:
    """Flatten a route list. FastAPI >= 0.120 keeps included routers as lazy branches (`effective_candidates`)."""
    for route in routes:
        branch = getattr(route, "effective_candidates", None)
        if callable(branch):
            yield from _walk(cast("Iterable[Any]", branch()))  # callable() narrows to `(...) -> object`
            continue
        path = getattr(route, "path", None)
        if path:
            yield path, set(getattr(route, "methods", None) or {"GET"})


def concrete(path: str) -> str:
    return PARAM.sub(PROBE_VALUE, path)


def _loopback(url: str) -> bool:
    host = httpx.URL(url).host
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sweep(
    url: str, routes: Iterable[tuple[str, str]], timeout: float = 30.0, local_address: str | None = None
) -> list[SweepHit]:
    """Every route that answered without a key (health probes included, marked allowed). Swept over loopback, gatekit's
    `/metrics` answering is allowed too: that is the collector sidecar's scrape path, which no load balancer reaches.
    `local_address`: the client's source address (e.g. 127.0.0.2, a loopback address outside the admin networks)."""
    scraper = _loopback(url)
    hits: list[SweepHit] = []
    seen: set[tuple[str, str]] = set()
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout, follow_redirects=False, transport=transport) as client:
        for method, template in routes:
            path = concrete(template)
            if (method, path) in seen:
                continue
            seen.add((method, path))
            body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
            status = client.request(method, path, json=body).status_code
            if status not in REFUSED:
                allowed = path in HEALTH_PATHS or (scraper and path == "/metrics" and status == 200)
                hits.append(SweepHit(method, path, status, allowed=allowed))
    return hits


def all_routes() -> list[tuple[str, str]]:
    return [*GATEKIT_ROUTES, *litellm_routes()]


def findings(hits: Iterable[SweepHit]) -> list[SweepHit]:
    return [h for h in hits if not h.allowed]


def report(hits: list[SweepHit], swept: int) -> dict[str, object]:
    bad = findings(hits)
    return {"ok": not bad, "swept": swept, "answered": [asdict(h) for h in hits], "findings": [asdict(h) for h in bad]}


if __name__ == "__main__":  # the route table as JSON, for `gatekit validate --routes-file`
    import json
    import sys

    json.dump(all_routes(), sys.stdout)
