"""ML routing that cannot load, with `on_load_failure: not-ready`: the replica stays alive but out of rotation
(readiness 503), and the status endpoint says why. Never a silent pick."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO, free_port


def test_unloadable_router_keeps_the_replica_out_of_rotation(tmp_path: Path) -> None:
    port, demo = free_port(), free_port()
    key = "sk-test-routing-readiness"
    cmd = [
        sys.executable, "-m", "gatekit.cli", "up", "--port", str(port),
        "--set", f"gateway.demo_provider.port={demo}",
        "--set", "gateway.routing.ml.on_load_failure=not-ready",
        "--set", f"gateway.routing.ml.artifact_uri={tmp_path / 'no-such-router'}",
    ]  # fmt: skip
    env = {**os.environ, "GATEKIT_MASTER_KEY": key, "GATEKIT_RUNTIME_DIR": str(tmp_path / "rt")}
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gateway never became live"
            try:
                if httpx.get(url + "/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        ready = httpx.get(url + "/health/readiness", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["status"] == "routing-unavailable"
        status = httpx.get(url + "/gatekit/config", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        assert status["routing"]["enabled"] is True
        assert status["routing"]["ready"] is False
        body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
        auto = httpx.post(url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        assert auto.status_code >= 500, auto.text  # `auto` refuses loudly instead of picking at random
        tier = httpx.post(
            url + "/v1/chat/completions", json={**body, "model": "economy"}, headers={"Authorization": f"Bearer {key}"}
        )
        assert tier.status_code == 200, "plain tiers keep serving"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
