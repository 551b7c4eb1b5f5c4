"""One reachable surface, against the real proxy composed as with a database (no master-key guard): the
unauthenticated sweep of LiteLLM's whole route table finds only the health probes; docs, UI and management answer
only to the admin network, seen through a trusted proxy; gatekit's /metrics needs the key off the loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest

from gatekit.runtime import sweep
from tests.conftest import REPO
from tests.security.conftest import Gateway

ADMIN_CLIENT = {"X-Forwarded-For": "10.99.0.7"}  # in ADMIN_NET, forwarded by the trusted (loopback) proxy


@pytest.mark.timeout(900)  # reading LiteLLM's route table imports its proxy (slow on a loaded machine)
def test_sweep_database_on_finds_only_the_health_probes(db_on_gateway: Gateway) -> None:
    """`gatekit validate --sweep-only`: LiteLLM's whole route table and gatekit's routes, without a key."""
    cmd = [sys.executable, "-m", "gatekit.cli", "validate", "--url", db_on_gateway.url, "--sweep-only", "--json"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    (gate,) = json.loads(result.stdout)["gates"]
    assert gate["gate"] == "unauthenticated-sweep" and gate["status"] == "PASS", gate
    print(gate["detail"])


def test_sweep_covers_the_admin_surface_and_would_catch_it(db_on_gateway: Gateway) -> None:
    """The sweep is not vacuous: the table has LiteLLM's admin routes, and as an admin client they answer."""
    routes = sweep.all_routes()
    paths = {p for _, p in routes}
    assert {"/redoc", "/openapi.json", "/key/generate", "/user/new", "/routes", "/metrics", "/ui"} <= paths, len(paths)
    assert len(routes) > 200
    with httpx.Client(base_url=db_on_gateway.url, headers=ADMIN_CLIENT, timeout=30) as admin:
        # (not /openapi.json: LiteLLM builds a schema of ~650 routes on the first call, slow on a loaded machine)
        assert admin.get("/redoc").status_code == 200
    hits = sweep.sweep(db_on_gateway.url, [("GET", "/openapi.json"), ("GET", "/redoc")])
    assert hits == []  # the same paths, not from the admin network: 404


def test_default_surface_is_the_inference_api_and_health(db_on_gateway: Gateway) -> None:
    with httpx.Client(base_url=db_on_gateway.url, timeout=30) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/ui", "/routes", "/key/generate", "/chat/completions"):
            assert client.get(path).status_code == 404, path
        assert client.post("/v1/chat/completions", json={}).status_code == 401
        assert client.get("/health/liveliness").status_code == 200
        ok = client.get("/v1/models", headers={"Authorization": f"Bearer {db_on_gateway.key}"})
        assert ok.status_code == 200
        # An X-Forwarded-For naming the admin network from an untrusted hop does not help: the right-most
        # untrusted hop is the client.
        spoofed = {"X-Forwarded-For": "10.99.0.7, 203.0.113.9"}
        assert client.get("/openapi.json", headers=spoofed).status_code == 404


def test_metrics_need_the_key_off_the_loopback(db_on_gateway: Gateway) -> None:
    with httpx.Client(base_url=db_on_gateway.url, timeout=30) as client:
        assert client.get("/metrics").status_code == 200  # the collector sidecar's scrape path
        keyed = client.get("/metrics", headers={"Authorization": f"Bearer {db_on_gateway.key}"})
        assert "gatekit_exposure_refused_requests" in keyed.text


def test_metrics_from_a_remote_peer_need_the_master_key() -> None:
    asyncio.run(_metrics_from_a_remote_peer())


async def _metrics_from_a_remote_peer() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from gatekit.config.exposure import Exposure
    from gatekit.runtime.exposure import ExposureGuard

    async def metrics(request: object) -> PlainTextResponse:
        return PlainTextResponse("gatekit_in_flight_requests 0")

    inner = Starlette(routes=[Route("/metrics", metrics), Route("/v1/models", metrics)])
    guard = ExposureGuard(inner, Exposure, lambda: ["10.0.0.0/8"], "sk-metrics")
    transport = httpx.ASGITransport(app=guard, client=("10.1.2.3", 5555))  # the load balancer
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer sk-metrics"})).status_code == 200
        assert (await client.get("/v1/models")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 404
