"""Config sync from S3 (moto server) into a real gateway: changes are served within interval + 2 s, a corrupted
object is rejected while the old config keeps serving, and a reload under concurrent load fails no request."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import RuntimeGateways
from tests.runtime.servers import SYNC_INTERVAL, S3Gateway

pytestmark = pytest.mark.slow

INTERVAL = SYNC_INTERVAL


@pytest.fixture
def s3_gateway(runtime_gateways: RuntimeGateways) -> S3Gateway:
    return runtime_gateways.s3


def add_extra_model(data: dict[str, Any]) -> None:
    data["gateway"]["models"].append({"model_name": "demo-extra", "tier": "economy", "demo": True})


def test_the_startup_document_is_the_one_served(s3_gateway: S3Gateway) -> None:
    status = s3_gateway.status()
    assert status["source"] == "s3" and status["etag"] and status["last_error"] is None
    assert status["workers"][0]["heap_frozen_objects"] > 100_000  # one worker froze its startup heap too
    r = httpx.get(s3_gateway.handle.url + "/health/readiness", timeout=30)
    assert r.headers["x-gatekit-config-version"] == status["version"]


def test_a_changed_object_is_served_within_interval_plus_2s(s3_gateway: S3Gateway) -> None:
    before = s3_gateway.status()["version"]
    s3_gateway.upload_edit(add_extra_model)
    uploaded = time.monotonic()
    status = s3_gateway.wait_for(lambda s: s["version"] != before, timeout=INTERVAL + 15)
    applied_after = time.monotonic() - uploaded
    assert status["version"] != before and status["last_error"] is None, status
    body = {"model": "demo-extra", "messages": [{"role": "user", "content": "are you new?"}]}
    r = httpx.post(s3_gateway.handle.url + "/v1/chat/completions", json=body, headers=s3_gateway.auth, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["x-gatekit-config-version"] == status["version"]
    assert "demo-extra" in r.json()["choices"][0]["message"]["content"]
    assert applied_after <= INTERVAL + 2, f"served after {applied_after:.2f} s"


def test_a_reload_under_continuous_concurrent_load_fails_no_request(s3_gateway: S3Gateway) -> None:
    stop = threading.Event()
    results: list[int | str] = []
    lock = threading.Lock()

    def load(worker: int) -> None:
        with httpx.Client(base_url=s3_gateway.handle.url, headers=s3_gateway.auth, timeout=60) as client:
            i = 0
            while not stop.is_set():
                stream = (worker + i) % 2 == 0
                body = {
                    "model": "economy",
                    "messages": [{"role": "user", "content": f"{worker}-{i}-{secrets.token_hex(4)}"}],
                    "stream": stream,
                }
                try:
                    r = client.post("/v1/chat/completions", json=body)
                    outcome: int | str = r.status_code
                    if r.status_code == 200 and stream and "data: [DONE]" not in r.text:
                        outcome = "stream ended early"
                except httpx.HTTPError as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with lock:
                    results.append(outcome)
                i += 1

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(8)]
    for t in threads:
        t.start()
    versions = []
    edits: list[Callable[[dict[str, Any]], None]] = [
        lambda d: d["gateway"]["routing"].update(num_retries=1),
        lambda d: (add_extra_model(d), d["gateway"]["routing"].update(num_retries=1, strategy="least-busy")),
        lambda d: d["gateway"]["routing"].update(num_retries=3, cooldown_seconds=10),
    ]
    try:
        time.sleep(1)
        for edit in edits:
            previous = s3_gateway.status()["version"]
            s3_gateway.upload_edit(edit)
            status = s3_gateway.wait_for(lambda s, p=previous: s["version"] != p, timeout=INTERVAL + 15)
            assert status["version"] != previous, status
            versions.append(status["version"])
            time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    failures = [r for r in results if r != 200]
    assert len(set(versions)) == 3
    assert len(results) >= 24, f"only {len(results)} requests completed"
    assert failures == [], f"{len(failures)} of {len(results)} failed: {failures[:5]}"


def test_a_corrupted_object_is_rejected_and_the_old_config_keeps_serving(s3_gateway: S3Gateway) -> None:
    before = s3_gateway.status()
    s3_gateway.upload(b'{"name": "local", "gateway": {"models": [')
    status = s3_gateway.wait_for(lambda s: s["last_error"] is not None, timeout=INTERVAL + 10)
    assert "rejected document" in status["last_error"]
    assert status["version"] == before["version"] and status["failures"] > before["failures"]
    s3_gateway.upload_edit(lambda d: d["gateway"]["backpressure"].update(max_in_flight=-5))
    status = s3_gateway.wait_for(lambda s: "max_in_flight" in (s["last_error"] or ""), timeout=INTERVAL + 10)
    assert "gateway.backpressure.max_in_flight" in status["last_error"]
    assert status["version"] == before["version"]
    body = {"model": "economy", "messages": [{"role": "user", "content": "still there?"}]}
    r = httpx.post(s3_gateway.handle.url + "/v1/chat/completions", json=body, headers=s3_gateway.auth, timeout=30)
    assert r.status_code == 200 and r.headers["x-gatekit-config-version"] == before["version"]
    metrics = httpx.get(s3_gateway.handle.url + "/metrics", timeout=30).text
    failures = [line for line in metrics.splitlines() if line.startswith("gatekit_config_reload_failures_total")]
    assert failures and float(failures[0].split()[-1]) >= 2
