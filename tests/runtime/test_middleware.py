"""The gatekit middleware in-process (a tiny app stands in for LiteLLM): backpressure, drain, headers, status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from gatekit.runtime.middleware import GatekitMiddleware
from gatekit.runtime.state import RuntimeState
from tests.runtime.conftest import tiny_upstream_app

KEY = "sk-test-middleware-key"


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


async def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_over_the_in_flight_limit_requests_get_503_with_retry_after_at_once(make_state: Any) -> None:
    state: RuntimeState = make_state(
        ["gateway.backpressure.max_in_flight=2", "gateway.backpressure.retry_after_seconds=7"]
    )

    async def scenario() -> None:
        gate = asyncio.Event()
        app = GatekitMiddleware(tiny_upstream_app(gate), state, master_key=KEY)
        async with client_for(app) as client:
            held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
            await wait_until(lambda: state.in_flight == 2)
            started = time.monotonic()
            shed = await client.get("/slow")
            elapsed = time.monotonic() - started
            assert shed.status_code == 503
            assert shed.headers["retry-after"] == "7"
            assert elapsed < 1.0  # answered at once, not queued behind the held requests
            for path in ("/health/readiness", "/health/liveliness", "/metrics"):
                assert (await client.get(path)).status_code == 200, path
            gate.set()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
            assert (await client.get("/slow")).status_code == 200
            metrics = (await client.get("/metrics")).text
        assert "gatekit_shed_requests_total 1.0" in metrics
        assert state.in_flight == 0

    run(scenario)


def test_draining_turns_readiness_503_refuses_new_requests_and_lets_in_flight_finish(make_state: Any) -> None:
    state: RuntimeState = make_state()

    async def scenario() -> None:
        gate = asyncio.Event()
        app = GatekitMiddleware(tiny_upstream_app(gate), state, master_key=KEY)
        async with client_for(app) as client:
            in_flight = asyncio.create_task(client.get("/stream"))
            await wait_until(lambda: state.in_flight == 1)
            state.begin_drain()
            assert not state.drained()
            assert (await client.get("/health/readiness")).status_code == 503
            assert (await client.get("/health/liveliness")).status_code == 200
            refused = await client.get("/slow")
            assert refused.status_code == 503 and refused.headers["connection"] == "close"
            assert "retry-after" in refused.headers
            gate.set()
            finished = await in_flight
            assert finished.status_code == 200 and finished.text.count("data:") == 3
        assert state.drained()
        assert state.active_streams == 0

    run(scenario)


def test_drain_budget_ends_the_drain_even_with_requests_in_flight(make_state: Any) -> None:
    state: RuntimeState = make_state(["gateway.drain.budget_seconds=1"])
    state.in_flight = 1
    state.begin_drain()
    assert not state.drained()
    time.sleep(1.05)
    assert state.drained()


def test_every_response_carries_the_config_version_and_status_needs_the_master_key(make_state: Any) -> None:
    state: RuntimeState = make_state()

    async def scenario() -> None:
        app = GatekitMiddleware(tiny_upstream_app(), state, master_key=KEY)
        async with client_for(app) as client:
            for path in ("/slow", "/health/readiness", "/metrics", "/gatekit/config"):
                r = await client.get(path)
                assert r.headers["x-gatekit-config-version"] == state.config.version, path
            assert (await client.get("/gatekit/config")).status_code == 401
            wrong = await client.get("/gatekit/config", headers={"Authorization": "Bearer sk-nope"})
            assert wrong.status_code == 401
            status = await client.get("/gatekit/config", headers={"Authorization": f"Bearer {KEY}"})
            assert status.status_code == 200
            body = status.json()
        assert body["version"] == state.config.version
        assert set(body) >= {"version", "etag", "applied_at", "last_error", "source"}

    run(scenario)


def test_streams_are_counted_while_open(make_state: Any) -> None:
    state: RuntimeState = make_state()
    seen: list[int] = []

    async def scenario() -> None:
        gate = asyncio.Event()
        app = GatekitMiddleware(tiny_upstream_app(gate), state, master_key=KEY)
        async with client_for(app) as client:
            task = asyncio.create_task(client.get("/stream"))
            await wait_until(lambda: state.active_streams == 1)
            seen.append(int(state.metrics.registry.get_sample_value("gatekit_active_streams") or 0))
            gate.set()
            await task
        seen.append(state.active_streams)

    run(scenario)
    assert seen == [1, 0]
