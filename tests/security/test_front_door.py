"""The front doors of the exposure, emulated: a small proxy applies the rendered ALB listener rules (cdk.front_door),
or the rendered Ingress paths (gatekit.render.k8s_ingress), in front of the real gateway, which is told the client is
an admin (so only the front door filters). The unauthenticated sweep of LiteLLM's route table through it finds only
the health probes; the exposed API still answers."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from cdk.front_door import Rule, listener_rules
from gatekit.config import default_config_dir, load_environment
from gatekit.render.k8s import render_gateway_manifests
from gatekit.render.k8s_ingress import ingress_routes
from gatekit.runtime import sweep
from tests.conftest import free_port
from tests.security.conftest import Gateway

ADMIN_HOP = "10.99.0.7"  # the gateway's own guard admits everything from here: the front door is the only filter


def alb_pattern(pattern: str) -> re.Pattern[str]:
    """ALB path patterns: `*` any characters, `?` one character, case-sensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


def alb_routes(rules: list[Rule]) -> Callable[[str], bool]:
    patterns = [alb_pattern(v) for r in rules if r.field == "path-pattern" for v in r.values]
    assert not [r for r in rules if r.field == "source-ip"], "prod exposes no admin network"
    return lambda path: any(p.match(path) for p in patterns)


def rendered_ingress() -> dict[str, Any]:
    overrides = ["gateway.exposure.ingress={host: gateway.example.com, cluster_issuer: letsencrypt}"]
    manifests = render_gateway_manifests(load_environment("k8s", default_config_dir(), overrides))
    service = next(m for m in manifests if m["kind"] == "Service")
    assert service["spec"]["type"] == "ClusterIP"
    return next(m for m in manifests if m["kind"] == "Ingress")


def emulated_front_door(routes: Callable[[str], bool], upstream: str) -> object:
    client = httpx.AsyncClient(base_url=upstream, timeout=60)

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return
        request = Request(scope, receive)  # type: ignore[arg-type]
        path = scope["path"]
        if not routes(path):
            response = Response('{"error":"not found"}', status_code=404, media_type="application/json")
        else:
            headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
            headers["x-forwarded-for"] = ADMIN_HOP
            upstream_response = await client.request(
                request.method, path, params=request.query_params, headers=headers, content=await request.body()
            )
            response = Response(upstream_response.content, status_code=upstream_response.status_code)
        await response(scope, receive, send)  # type: ignore[arg-type]

    return app


@pytest.fixture(scope="module", params=["alb-listener-rules", "k8s-ingress"])
def front_door(request: pytest.FixtureRequest, db_on_gateway: Gateway) -> Iterator[str]:
    if request.param == "alb-listener-rules":
        routes = alb_routes(listener_rules(load_environment("prod", default_config_dir()).gateway.exposure))
    else:
        ingress = rendered_ingress()
        routes = partial(ingress_routes, manifest=ingress)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(emulated_front_door(routes, db_on_gateway.url), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_behind_the_front_door_the_gateway_alone_would_answer_as_admin(db_on_gateway: Gateway) -> None:
    r = httpx.get(db_on_gateway.url + "/redoc", headers={"x-forwarded-for": ADMIN_HOP}, timeout=60)
    assert r.status_code == 200  # what the front door must keep out


@pytest.mark.timeout(900)
def test_sweep_through_the_rendered_listener_rules_finds_only_health(front_door: str, db_on_gateway: Gateway) -> None:
    routes = sweep.all_routes()
    hits = sweep.sweep(front_door, routes)
    assert sweep.findings(hits) == []
    assert {h.path for h in hits if h.allowed} >= {"/health/liveliness", "/health/readiness"}
    with httpx.Client(base_url=front_door, timeout=60) as client:
        assert client.get("/metrics").status_code == 404  # the load balancer never forwards it
        assert client.get("/redoc").status_code == 404
        ok = client.get("/v1/models", headers=db_on_gateway.auth)
        assert ok.status_code == 200, ok.text


def test_ingress_renders_tls_and_only_the_exposed_paths() -> None:
    ingress = rendered_ingress()
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert ingress["spec"]["tls"][0]["hosts"] == ["gateway.example.com"]
    paths = {(p["path"], p["pathType"]) for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert paths == {
        ("/v1/", "Prefix"),
        ("/health/liveliness", "Exact"),
        ("/health/liveness", "Exact"),
        ("/health/readiness", "Exact"),
    }
    assert not ingress_routes("/v1x", ingress) and ingress_routes("/v1/chat/completions", ingress)
    assert not ingress_routes("/health", ingress) and not ingress_routes("/ui", ingress)
