"""Degraded mode, proven on real servers: Redis (cache and router state) killed mid-load -> no failed request, and
the `gatekit_dependency_up` metric and the readiness note say the gateway is degraded."""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import GatewayFactory, free_port

WORKERS = 2
pytestmark = pytest.mark.slow


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    assert shutil.which("redis-server"), "redis-server is not installed (scripts/system-packages.sh installs it)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
        assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.1)
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _dependency_up(metrics: str) -> float | None:
    for line in metrics.splitlines():
        if line.startswith('gatekit_dependency_up{dependency="redis"}'):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.timeout(900)  # a gateway start of its own (slow on a busy machine), then load before and after
def test_redis_killed_mid_load_fails_no_request_and_says_degraded(
    gateway_factory: GatewayFactory, redis_server: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = redis_server
    gw = gateway_factory(
        overrides=["gateway.caching.backend=redis", "cache.url.env=REDIS_URL"],
        extra_env={"REDIS_URL": f"redis://127.0.0.1:{port}", "REDIS_SSL": "False"},
    )
    auth = {"Authorization": f"Bearer {gw.key}"}
    assert _dependency_up(httpx.get(gw.url + "/metrics", timeout=30).text) == 1.0
    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=gw.url, headers=auth, timeout=120) as client:
            while not stop.is_set():
                body = {"model": "economy", "messages": [{"role": "user", "content": secrets.token_hex(8)}]}
                r = client.post("/v1/chat/completions", json=body)
                results.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=load) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 120
        while len(results) < 10:  # under load, and the answers are being cached in Redis
            assert time.monotonic() < deadline, "no load reached the gateway"
            time.sleep(0.2)
        dbsize = subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True).stdout
        assert int(dbsize) > 0, "the gateway did not use Redis before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = len(results)
        note = None
        deadline = time.monotonic() + 120
        while note is None and time.monotonic() < deadline:
            r = httpx.get(gw.url + "/health/readiness", timeout=30)
            assert r.status_code == 200  # still in rotation: serving continues
            note = r.headers.get("x-gatekit-degraded")
            time.sleep(0.2)
        assert note == "redis", f"no degraded note in readiness after 120 s: {r.headers} {r.text[:300]}"
        assert r.json()["gatekit_degraded"] == ["redis"]
        while len(results) < killed_at + 20:  # and keep serving without Redis
            assert time.monotonic() < deadline + 120, "load stalled after Redis went away"
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(180)
    failed = [r for r in results if r[0] != 200]
    assert not failed, f"{len(failed)} of {len(results)} requests failed: {failed[:3]}"
    assert _dependency_up(httpx.get(gw.url + "/metrics", timeout=30).text) == 0.0
