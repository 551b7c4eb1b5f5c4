"""The servers the runtime tests share, started together (LiteLLM startup is slow; four in a row is slower)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import yaml

from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config
from tests.conftest import REPO, GatewayFactory, GatewayHandle, free_port, wait_ready
from tests.runtime.conftest import MOTO_ENV, edited, local_env

SYNC_INTERVAL = 1
SYNC_KEY = "local/environment.json"
SLOW = {"latency_ms": 3000, "chunk_delay_ms": 300, "chunks": 8, "budget": 20, "exit_margin": 5}


@dataclass
class S3Gateway:
    handle: GatewayHandle
    client: Any
    bucket: str
    overrides: list[str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.handle.key}"}

    def upload(self, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=SYNC_KEY, Body=body)

    def upload_edit(self, edit: Callable[[dict[str, Any]], None]) -> None:
        self.upload(edited(local_env(self.overrides), edit))

    def status(self) -> dict[str, Any]:
        r = httpx.get(self.handle.url + "/gatekit/config", headers=self.auth, timeout=30)
        r.raise_for_status()
        return dict(r.json())

    def wait_for(self, condition: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if condition(status) or time.monotonic() > deadline:
                return status
            time.sleep(0.1)


def start_s3_gateway(gateway_factory: GatewayFactory, moto_endpoint: str) -> S3Gateway:
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=MOTO_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=MOTO_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = f"gatekit-config-{secrets.token_hex(4)}"
    client.create_bucket(Bucket=bucket)
    overrides = [
        f"gateway.demo_provider.port={free_port()}",
        "gateway.config_sync.source=s3",
        f"gateway.config_sync.uri=s3://{bucket}/{SYNC_KEY}",
        f"gateway.config_sync.interval_seconds={SYNC_INTERVAL}",
    ]
    client.put_object(Bucket=bucket, Key=SYNC_KEY, Body=local_env(overrides).model_dump_json().encode())
    handle = gateway_factory(overrides=overrides, extra_env={**MOTO_ENV, "AWS_ENDPOINT_URL_S3": moto_endpoint})
    return S3Gateway(handle, client, bucket, overrides)


def unique_chat(stream: bool = False, model: str = "economy") -> dict[str, Any]:
    # A fresh prompt each time: the local environment caches responses, and a cache hit never reaches upstream.
    prompt = f"gatekit test {secrets.token_hex(8)}"
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream}


def start_slow_gateway(gateway_factory: GatewayFactory) -> GatewayHandle:
    """Slow upstream, an in-flight limit of 2 and a 20 s drain budget: for shedding and drain tests."""
    handle = gateway_factory(
        overrides=[
            f"gateway.demo_provider.latency_ms={SLOW['latency_ms']}",
            f"gateway.demo_provider.chunk_delay_ms={SLOW['chunk_delay_ms']}",
            f"gateway.demo_provider.chunks={SLOW['chunks']}",
            "gateway.backpressure.max_in_flight=2",
            "gateway.backpressure.retry_after_seconds=3",
            f"gateway.drain.budget_seconds={SLOW['budget']}",
            f"gateway.drain.exit_margin_seconds={SLOW['exit_margin']}",
        ]
    )
    # LiteLLM imports and builds clients on a deployment's first call (blocking its event loop for a moment);
    # warm both paths up so the tests measure steady-state behaviour.
    auth = {"Authorization": f"Bearer {handle.key}"}
    for stream in (False, True):
        r = httpx.post(handle.url + "/v1/chat/completions", json=unique_chat(stream), headers=auth, timeout=120)
        assert r.status_code == 200, r.text
    return handle


@dataclass
class OpenLiteLLM:
    """The vanilla LiteLLM proxy with the local models and no master key: a gateway with auth off."""

    url: str
    procs: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)


def start_open_litellm(workdir: Path) -> OpenLiteLLM:
    demo_port, port = free_port(), free_port()
    env = local_env([f"gateway.demo_provider.port={demo_port}"])
    config = render_litellm_config(env)
    del config["general_settings"]["master_key"]
    (workdir / "litellm.yaml").write_text(yaml.safe_dump(config))
    proc_env = {k: v for k, v in os.environ.items() if k not in ("GATEKIT_MASTER_KEY", "LITELLM_MASTER_KEY")}
    proc_env.update(render_environment(env).plain)
    proc_env["LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY"] = "true"
    proc_env["CONFIG_FILE_PATH"] = str(workdir / "litellm.yaml")  # the ML routing callback reads it
    demo_cmd = [sys.executable, "-m", "gatekit.cli", "mock-llm", "--host", "127.0.0.1", "--port", str(demo_port)]
    demo = subprocess.Popen(demo_cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log_path = workdir / "litellm.log"
    litellm_bin = Path(sys.executable).parent / "litellm"
    cmd = [str(litellm_bin), "--config", str(workdir / "litellm.yaml"), "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=proc_env, stdout=log, stderr=subprocess.STDOUT)
    started = OpenLiteLLM(f"http://127.0.0.1:{port}", [proc, demo])
    try:
        wait_ready(started.url, proc, log_path)
    except RuntimeError:
        started.stop()
        raise
    return started
