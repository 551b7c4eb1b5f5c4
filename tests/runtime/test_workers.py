"""A real 2-worker replica (`gateway.workers: 2` on a 2-vCPU replica): each worker syncs and converges on a hot
reload with no failed request, `/metrics` counts what both workers served, the in-flight limit holds for the whole
replica (503 + Retry-After past it), and SIGTERM drains every worker's streams to their last chunk, exit 0."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import START_TIMEOUT, GatewayFactory, GatewayHandle, free_port
from tests.runtime.conftest import edited, local_env

# The module fixture starts two workers (twice the CPU of one gateway start): more than the 300 s default on a busy
# machine. The tests themselves take seconds.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MAX_IN_FLIGHT = 4
RETRY_AFTER = 3
BUDGET = 20
EXIT_MARGIN = 5
HOLD_MS = 10_000  # upstream latency injected for the requests a test keeps in flight (a busy machine is slow)


@dataclass
class TwoWorkers:
    handle: GatewayHandle
    document: Path
    overrides: list[str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.handle.key}"}

    @property
    def demo(self) -> str:
        port = next(o for o in self.overrides if o.startswith("gateway.demo_provider.port=")).split("=")[1]
        return f"http://127.0.0.1:{port}"  # the last override wins over the factory's own demo port

    def status(self) -> dict[str, Any]:
        r = httpx.get(self.handle.url + "/gatekit/config", headers=self.auth, timeout=30)
        r.raise_for_status()
        return dict(r.json())

    def metrics(self) -> str:
        r = httpx.get(self.handle.url + "/metrics", headers=self.auth, timeout=30)
        r.raise_for_status()
        return r.text

    def publish(self, edit: Callable[[dict[str, Any]], None]) -> None:
        tmp = self.document.with_suffix(".tmp")
        tmp.write_bytes(edited(local_env(self.overrides), edit))
        tmp.replace(self.document)

    def hold_upstream(self, times: int) -> None:
        rule = {"path": "/v1/chat/completions", "latency_ms": HOLD_MS, "times": times}
        httpx.put(self.demo + "/gatekit-demo/faults", json=[rule], timeout=10).raise_for_status()


def sample(text: str, name: str) -> dict[str, float]:
    """Samples of one metric: {label string: value}."""
    out = {}
    for line in text.splitlines():
        m = re.match(rf"^{name}(\{{[^}}]*\}})? (\S+)$", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def chat(stream: bool = False) -> dict[str, Any]:
    prompt = f"gatekit workers test {secrets.token_hex(8)}"  # fresh: the local environment caches answers
    return {"model": "economy", "messages": [{"role": "user", "content": prompt}], "stream": stream}


def post(gw: TwoWorkers, stream: bool = False) -> httpx.Response:
    # A new connection per request, so the kernel hands connections to both workers' accept loops.
    return httpx.post(gw.handle.url + "/v1/chat/completions", json=chat(stream), headers=gw.auth, timeout=60)


@pytest.fixture(scope="module")
def two_workers(gateway_factory: GatewayFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoWorkers]:
    document = tmp_path_factory.mktemp("two-workers") / "environment.json"
    overrides = [
        f"gateway.demo_provider.port={free_port()}",
        "compute.cpu=2048",
        "gateway.workers=2",
        "gateway.config_sync.source=file",
        f"gateway.config_sync.uri={document}",
        "gateway.config_sync.interval_seconds=1",
        f"gateway.backpressure.max_in_flight={MAX_IN_FLIGHT}",
        f"gateway.backpressure.retry_after_seconds={RETRY_AFTER}",
        f"gateway.drain.budget_seconds={BUDGET}",
        f"gateway.drain.exit_margin_seconds={EXIT_MARGIN}",
    ]
    document.write_bytes(local_env(overrides).model_dump_json().encode())
    # Two workers import LiteLLM at the same time: twice the CPU of one gateway's start.
    handle = gateway_factory(overrides=overrides, start_timeout=2 * START_TIMEOUT)
    gw = TwoWorkers(handle, document, overrides)
    for stream in (False, True):  # LiteLLM builds its upstream clients on first use: warm both paths
        for _ in range(4):
            r = post(gw, stream)
            assert r.status_code == 200, r.text
    yield gw
    handle.stop()


def test_every_worker_starts_reports_its_version_and_the_replica_has_converged(two_workers: TwoWorkers) -> None:
    status = two_workers.status()
    workers = status["workers"]
    assert [w["worker"] for w in workers] == [0, 1]
    assert all(w["ready"] for w in workers), workers
    assert len({w["pid"] for w in workers}) == 2, workers
    assert status["converged"] is True
    assert {w["version"] for w in workers} == {status["version"]}
    assert all(w["source"] == "file" for w in workers), workers
    # Each worker froze its startup heap (LiteLLM's ~1.4 M objects) out of full collections (runtime/heap.py).
    assert all(w["heap_frozen_objects"] > 100_000 for w in workers), workers
    info = sample(two_workers.metrics(), "gatekit_config_info")
    assert len(info) == 2 and all(status["version"] in labels for labels in info), info


def test_metrics_count_the_requests_both_workers_served(two_workers: TwoWorkers) -> None:
    before = sample(two_workers.metrics(), "gatekit_requests_total")
    sent = 0
    with ThreadPoolExecutor(MAX_IN_FLIGHT - 1) as pool:  # under the limit: none is shed
        for _ in range(5):  # until both workers have served some (the kernel picks the worker per connection)
            codes = list(pool.map(lambda _: post(two_workers).status_code, range(24)))
            assert codes == [200] * len(codes), codes
            sent += len(codes)
            after = sample(two_workers.metrics(), "gatekit_requests_total")
            served = {k: after[k] - before.get(k, 0) for k in after}
            if len(served) == 2 and all(v > 0 for v in served.values()):
                break
    assert set(served) == {'{worker="0"}', '{worker="1"}'}, served
    assert all(v > 0 for v in served.values()), f"one worker served nothing: {served}"
    assert sum(served.values()) == sent, (served, sent)


KEEP_ALIVE_CONNECTIONS = 48
REQUESTS_PER_CONNECTION = 2


def test_keep_alive_clients_spread_their_connections_over_both_workers(two_workers: TwoWorkers) -> None:
    """Each client holds one connection for several requests (as SDKs and load balancers do): whichever worker
    accepts it serves them all. Both workers must accept a fair share (ADR 0032: one SO_REUSEPORT socket per worker;
    on one shared socket, one worker was seen taking nearly every connection)."""
    before = two_workers.metrics()

    def client(_: int) -> list[int]:
        with httpx.Client(base_url=two_workers.handle.url, headers=two_workers.auth, timeout=60) as c:
            return [c.post("/v1/chat/completions", json=chat()).status_code for _ in range(REQUESTS_PER_CONNECTION)]

    with ThreadPoolExecutor(MAX_IN_FLIGHT - 1) as pool:  # under the limit: none is shed
        codes = [code for codes in pool.map(client, range(KEEP_ALIVE_CONNECTIONS)) for code in codes]
    assert codes == [200] * KEEP_ALIVE_CONNECTIONS * REQUESTS_PER_CONNECTION, codes
    after = two_workers.metrics()
    for name, total in (
        ("gatekit_connections_total", KEEP_ALIVE_CONNECTIONS),
        ("gatekit_requests_total", KEEP_ALIVE_CONNECTIONS * REQUESTS_PER_CONNECTION),
    ):
        was, now = sample(before, name), sample(after, name)
        share = {k: now[k] - was.get(k, 0) for k in now}
        assert set(share) == {'{worker="0"}', '{worker="1"}'}, (name, share)
        assert sum(share.values()) >= total, (name, share)  # /metrics scrapes open connections too
        assert min(share.values()) >= 0.25 * sum(share.values()), f"{name}: one worker took the load: {share}"


def test_a_reload_under_load_fails_no_request_and_every_worker_converges(two_workers: TwoWorkers) -> None:
    stop = threading.Event()
    results: list[int | str] = []
    lock = threading.Lock()

    def load(n: int) -> None:
        i = 0
        while not stop.is_set():
            stream = (n + i) % 2 == 0
            try:
                r = post(two_workers, stream)
                outcome: int | str = r.status_code
                if r.status_code == 200 and stream and "data: [DONE]" not in r.text:
                    outcome = "stream ended early"
            except httpx.HTTPError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                results.append(outcome)
            i += 1

    threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(MAX_IN_FLIGHT - 1)]
    for t in threads:
        t.start()
    edits: list[Callable[[dict[str, Any]], None]] = [
        lambda d: d["gateway"]["routing"].update(num_retries=1),
        lambda d: (
            d["gateway"]["models"].append({"model_name": "demo-extra", "tier": "economy", "demo": True}),
            d["gateway"]["routing"].update(num_retries=3),
        ),
    ]
    versions = []
    try:
        time.sleep(1)
        for edit in edits:
            previous = two_workers.status()["version"]
            two_workers.publish(edit)
            deadline = time.monotonic() + 30
            while True:
                status = two_workers.status()
                got = {w["version"] for w in status["workers"]}
                if status["converged"] and got != {previous}:
                    break
                assert time.monotonic() < deadline, f"workers did not converge: {status['workers']}"
                time.sleep(0.2)
            versions.append(status["version"])
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    failures = [r for r in results if r != 200]
    assert len(set(versions)) == 2
    assert len(results) >= 12, f"only {len(results)} requests completed"
    assert failures == [], f"{len(failures)} of {len(results)} failed: {failures[:5]}"
    assert all(w["reloads"] >= 2 and w["last_error"] is None for w in status["workers"]), status["workers"]
    # the model the reload added answers, whichever worker takes the request
    for _ in range(6):
        body = {**chat(), "model": "demo-extra"}
        r = httpx.post(two_workers.handle.url + "/v1/chat/completions", json=body, headers=two_workers.auth, timeout=60)
        assert r.status_code == 200, r.text


def test_past_the_replica_limit_every_worker_answers_503_with_retry_after(two_workers: TwoWorkers) -> None:
    two_workers.hold_upstream(MAX_IN_FLIGHT)
    with ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
        held = [pool.submit(post, two_workers) for _ in range(MAX_IN_FLIGHT)]
        deadline = time.monotonic() + 30
        while sample(two_workers.metrics(), "gatekit_in_flight_requests")[""] < MAX_IN_FLIGHT:
            assert time.monotonic() < deadline, "the held requests never got in flight"
            time.sleep(0.05)
        shed_before = sample(two_workers.metrics(), "gatekit_shed_requests_total")[""]
        # The limit is per replica: with a per-worker limit, a worker holding fewer than MAX_IN_FLIGHT would admit.
        refused = [post(two_workers) for _ in range(6)]
        assert [r.status_code for r in refused] == [503] * 6, [r.text for r in refused]
        assert all(r.headers["retry-after"] == str(RETRY_AFTER) for r in refused)
        assert sample(two_workers.metrics(), "gatekit_shed_requests_total")[""] == shed_before + 6
        for path in ("/health/liveliness", "/health/readiness"):
            assert httpx.get(two_workers.handle.url + path, timeout=30).status_code == 200, path
        assert [f.result().status_code for f in held] == [200] * MAX_IN_FLIGHT
    assert post(two_workers).status_code == 200  # capacity is back once they finish


def test_sigterm_drains_the_streams_of_both_workers_and_the_replica_exits_0(two_workers: TwoWorkers) -> None:
    """Last in this module: it stops the replica."""
    streams = MAX_IN_FLIGHT  # spread over both workers by the kernel
    two_workers.hold_upstream(streams)
    pids = {w["pid"] for w in two_workers.status()["workers"]}

    def stream_to_the_end() -> str:
        with (
            httpx.Client(timeout=60) as client,
            client.stream(
                "POST", two_workers.handle.url + "/v1/chat/completions", json=chat(True), headers=two_workers.auth
            ) as r,
        ):
            if r.status_code != 200:
                return f"status {r.status_code}"
            return "".join(r.iter_text())

    with ThreadPoolExecutor(streams) as pool:
        futures = [pool.submit(stream_to_the_end) for _ in range(streams)]
        deadline = time.monotonic() + 30
        while sample(two_workers.metrics(), "gatekit_in_flight_requests")[""] < streams:
            assert time.monotonic() < deadline, "the streams never got in flight"
            time.sleep(0.05)
        started = time.monotonic()
        two_workers.handle.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while httpx.get(two_workers.handle.url + "/health/readiness", timeout=30).status_code != 503:
            assert time.monotonic() < deadline, "readiness never turned 503"
            time.sleep(0.05)
        bodies = [f.result() for f in futures]
    for body in bodies:
        assert body.rstrip().endswith("data: [DONE]"), body[-300:]
    code = two_workers.handle.proc.wait(BUDGET + EXIT_MARGIN + 10)
    elapsed = time.monotonic() - started
    assert code == 0, two_workers.handle.log()[-3000:]
    assert elapsed < BUDGET + EXIT_MARGIN, f"exit took {elapsed:.1f} s"
    log = two_workers.handle.log()
    drained = [json.loads(line) for line in log.splitlines() if line.startswith("{") and '"drained"' in line]
    assert len(drained) == 2, drained
    for pid in pids:  # every worker process is gone
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
