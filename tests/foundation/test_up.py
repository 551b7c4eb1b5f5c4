"""`gatekit up` as a new user runs it: the real LiteLLM proxy, DB-less, the demo provider serving both tiers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from tests.conftest import REPO, GatewayFactory, GatewayHandle, free_port, wait_ready


def test_ready_and_live(local_gateway: GatewayHandle) -> None:
    for path in ("/health/liveliness", "/health/readiness"):
        assert httpx.get(local_gateway.url + path, timeout=10).status_code == 200


@pytest.mark.parametrize("tier", ["economy", "premium"])
def test_chat_both_tiers_with_the_openai_sdk(local_gateway: GatewayHandle, tier: str) -> None:
    client = openai.OpenAI(base_url=local_gateway.url + "/v1", api_key=local_gateway.key, max_retries=0)
    reply = client.chat.completions.create(model=tier, messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content.startswith("[gatekit demo provider]")
    assert f"demo-{tier}" in reply.choices[0].message.content
    stream = client.chat.completions.create(model=tier, messages=[{"role": "user", "content": "ping"}], stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.startswith("[gatekit demo provider]")


def test_embeddings(local_gateway: GatewayHandle) -> None:
    client = openai.OpenAI(base_url=local_gateway.url + "/v1", api_key=local_gateway.key, max_retries=0)
    result = client.embeddings.create(model="demo-embedding", input=["a", "b"])
    assert len(result.data) == 2 and len(result.data[0].embedding) > 0


def test_models_listed(local_gateway: GatewayHandle) -> None:
    r = httpx.get(local_gateway.url + "/v1/models", headers={"Authorization": f"Bearer {local_gateway.key}"})
    assert {"economy", "premium"} <= {m["id"] for m in r.json()["data"]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-wrong"}, {"x-api-key": "nope"}])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/key/generate", "/model/new"])
def test_requests_without_a_valid_key_get_401(local_gateway: GatewayHandle, headers: dict[str, str], path: str) -> None:
    body = {"model": "economy", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(local_gateway.url + path, json=body, headers=headers, timeout=30)
    assert r.status_code == 401, r.text


def test_the_local_render_is_exactly_what_up_runs(local_gateway: GatewayHandle) -> None:
    args = [a for o in local_gateway.overrides for a in ("--set", o)]
    rendered = subprocess.run(
        [sys.executable, "-m", "gatekit.cli", "config", "render", "--env", "local", "--target", "litellm",
         "--set", f"gateway.port={local_gateway.port}", *args],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    running = (local_gateway.runtime_dir / "litellm.yaml").read_text()
    assert yaml.safe_load(rendered) == yaml.safe_load(running)
    assert rendered == running


def test_default_render_matches_make_up_defaults() -> None:
    """With no overrides, `make up` serves port 4000 with the demo provider on 4010."""
    doc = yaml.safe_load(
        subprocess.run(
            [sys.executable, "-m", "gatekit.cli", "config", "render", "--env", "local"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert {m["litellm_params"]["api_base"] for m in doc["model_list"]} == {"http://127.0.0.1:4010/v1"}


def test_sigterm_exits_cleanly_and_stops_the_demo_provider(gateway_factory: GatewayFactory) -> None:
    gw = gateway_factory()
    assert httpx.get(f"http://127.0.0.1:{gw.demo_port}/health").status_code == 200
    assert gw.stop(signal.SIGTERM) == 0, gw.log()[-3000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{gw.demo_port}/health", timeout=2)


def test_generated_master_key_is_kept_in_a_file_and_enforced(tmp_path: Path) -> None:
    port, demo = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "GATEKIT_MASTER_KEY"}
    env["GATEKIT_RUNTIME_DIR"] = str(tmp_path)
    log = tmp_path / "up.log"
    cmd = [
        sys.executable,
        "-m",
        "gatekit.cli",
        "up",
        "--port",
        str(port),
        "--set",
        f"gateway.demo_provider.port={demo}",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc, log)
        key = (tmp_path / "master-key").read_text().strip()
        assert key.startswith("sk-gatekit-") and key not in log.read_text()  # named by its file, never printed
        ok = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0


def test_invalid_config_fails_fast_without_traceback(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "gatekit.cli", "up", "--set", "gateway.port=-1"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 1
    assert "gateway.port" in r.stderr and "Traceback" not in r.stderr
