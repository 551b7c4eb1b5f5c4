"""One pair of proxies for the parity suite: `gatekit up` (env local) and vanilla LiteLLM (its own CLI) serving the
same rendered config, with the same master key and environment, sharing the gateway's demo provider."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekit.config import default_config_dir, load_environment
from gatekit.render.env import render_environment
from tests.conftest import REPO, GatewayFactory, GatewayHandle, free_port, wait_ready

# Files and batches: LiteLLM load-balances them over the model named inside the uploaded JSONL (the demo provider),
# instead of needing a provider-wide `files_settings`. Both sides render it, so it is not a difference.
PARITY_OVERRIDES = ("gateway.litellm.litellm_settings.enable_loadbalancing_on_batch_endpoints=true",)


@dataclass
class ParityPair:
    gateway: GatewayHandle
    key: str  # the master key both sides use (the factory's own key is replaced through the environment)
    upstream_url: str
    config_path: Path
    demo_port: int


def _render(overrides: list[str], path: Path) -> None:
    cmd = [sys.executable, "-m", "gatekit.cli", "config", "render", "--env", "local", "--target", "litellm"]
    cmd += [a for o in overrides for a in ("--set", o)]
    path.write_bytes(subprocess.run(cmd, cwd=REPO, check=True, capture_output=True).stdout)


@pytest.fixture(scope="session")
def parity_pair(gateway_factory: GatewayFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParityPair]:
    workdir = tmp_path_factory.mktemp("parity-upstream")
    demo_port, port = free_port(), free_port()
    overrides = [f"gateway.demo_provider.port={demo_port}", *PARITY_OVERRIDES]
    key = "sk-parity-" + os.urandom(12).hex()
    # File listing/retrieval and batches not tied to a model use LiteLLM's provider-wide OpenAI default: point it at
    # the demo provider on both sides (no real provider is ever reached).
    shared_env = {
        "GATEKIT_MASTER_KEY": key,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{demo_port}/v1",
        "OPENAI_API_KEY": "demo-not-required",
    }
    config_path = workdir / "litellm.yaml"
    _render(overrides, config_path)
    env = load_environment("local", default_config_dir(), overrides)
    proc_env = {**os.environ, **render_environment(env).plain, **shared_env, "CONFIG_FILE_PATH": str(config_path)}
    litellm_bin = Path(sys.executable).parent / "litellm"
    cmd = [str(litellm_bin), "--config", str(config_path), "--host", "127.0.0.1", "--port", str(port)]
    log_path = workdir / "litellm.log"
    # Start vanilla first (no waiting), then the gateway: the two start-ups overlap.
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=proc_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        gateway = gateway_factory(overrides=overrides, extra_env=shared_env)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc, log_path)
        yield ParityPair(gateway, key, url, config_path, demo_port)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
