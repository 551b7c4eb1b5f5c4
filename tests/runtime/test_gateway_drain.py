"""A real gateway under SIGTERM and over its in-flight limit: streams finish, new work is refused, exit 0 in budget,
and load past the limit is shed with 503 + Retry-After at once while health stays 200."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from tests.conftest import GatewayHandle
from tests.runtime.conftest import RuntimeGateways
from tests.runtime.servers import SLOW, unique_chat

pytestmark = pytest.mark.slow

LATENCY_MS = SLOW["latency_ms"]
BUDGET = SLOW["budget"]
EXIT_MARGIN = SLOW["exit_margin"]


@pytest.fixture
def slow_gateway(runtime_gateways: RuntimeGateways) -> GatewayHandle:
    return runtime_gateways.slow


def chat(stream: bool = False) -> dict[str, object]:
    return unique_chat(stream)


def metric(url: str, name: str) -> float:
    for line in httpx.get(url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not exported")


def test_over_the_limit_requests_get_503_and_retry_after_at_once_while_health_stays_200(
    slow_gateway: GatewayHandle,
) -> None:
    auth = {"Authorization": f"Bearer {slow_gateway.key}"}
    held: list[int] = []

    def hold() -> None:
        r = httpx.post(slow_gateway.url + "/v1/chat/completions", json=chat(), headers=auth, timeout=60)
        held.append(r.status_code)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while metric(slow_gateway.url, "gatekit_in_flight_requests") < 2:
        assert time.monotonic() < deadline, "the two slow requests never got in flight"
        time.sleep(0.05)
    shed_before = metric(slow_gateway.url, "gatekit_shed_requests_total")
    started = time.monotonic()
    r = httpx.post(slow_gateway.url + "/v1/chat/completions", json=chat(), headers=auth, timeout=60)
    elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "3"
    assert elapsed < LATENCY_MS / 1000 / 2, f"took {elapsed:.2f} s: queued instead of shed"
    for path in ("/health/liveliness", "/health/readiness"):
        assert httpx.get(slow_gateway.url + path, timeout=30).status_code == 200, path
    assert metric(slow_gateway.url, "gatekit_shed_requests_total") == shed_before + 1
    for t in threads:
        t.join(60)
    assert held == [200, 200]


def test_a_stream_survives_sigterm_to_its_last_chunk_and_the_process_exits_0_in_budget(
    slow_gateway: GatewayHandle,
) -> None:
    auth = {"Authorization": f"Bearer {slow_gateway.key}"}
    events: list[str] = []
    with (
        httpx.Client(base_url=slow_gateway.url, timeout=60) as client,
        client.stream("POST", "/v1/chat/completions", json=chat(stream=True), headers=auth) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.iter_lines()
        for line in lines:
            if line.startswith("data: "):
                events.append(line)
                break
        assert metric(slow_gateway.url, "gatekit_active_streams") == 1
        slow_gateway.proc.send_signal(signal.SIGTERM)
        terminated = time.monotonic()
        time.sleep(0.5)
        readiness = httpx.get(slow_gateway.url + "/health/readiness", timeout=30)
        assert readiness.status_code == 503
        refused = httpx.post(slow_gateway.url + "/v1/chat/completions", json=chat(), headers=auth, timeout=30)
        assert refused.status_code == 503 and "retry-after" in refused.headers
        assert "draining" in refused.text
        before_sigterm = len(events)
        events += [line for line in lines if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert len(events) - before_sigterm >= 3  # the stream kept flowing through the drain
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    assert text.endswith("This is canned demo text, not a model answer.")  # the last chunk arrived
    code = slow_gateway.proc.wait(BUDGET + EXIT_MARGIN)
    assert code == 0, slow_gateway.log()[-3000:]
    assert time.monotonic() - terminated <= BUDGET + EXIT_MARGIN
    assert '"message": "drained"' in slow_gateway.log()
