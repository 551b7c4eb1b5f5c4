"""`gatekit up`: the gateway on a laptop, with the demo provider when the environment enables it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gatekit.config import Environment
from gatekit.config.gateway import DemoProvider


class DemoProviderError(RuntimeError):
    pass


KEY_FILE = "master-key"


def ensure_master_key(env: Environment, runtime_dir: Path) -> Path | None:
    """Put the master key in the process environment; return the file holding a generated one (None if supplied).

    A key referenced from a secret store must already be in the environment. A laptop session without one gets a
    generated key, written owner-only to `<runtime dir>/master-key`: the banner names the file, never the key.
    """
    ref = env.secrets.master_key
    if os.environ.get(ref.env_var):
        return None
    if ref.env is None:
        raise RuntimeError(f"master key {ref.describe()} is not in the environment as {ref.env_var}")
    key = "sk-gatekit-" + secrets.token_urlsafe(24)
    runtime_dir.mkdir(parents=True, exist_ok=True)
    path = runtime_dir / KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT
    os.environ[ref.env_var] = key
    return path


def start_demo_provider(demo: DemoProvider, timeout: float = 15.0) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "gatekit.cli", "mock-llm",
        "--host", demo.host, "--port", str(demo.port),
        "--latency-ms", str(demo.latency_ms), "--chunk-delay-ms", str(demo.chunk_delay_ms),
        "--chunks", str(demo.chunks),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + timeout
    url = f"http://{demo.host}:{demo.port}/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoProviderError(f"demo provider exited with {proc.returncode} (is port {demo.port} in use?)")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise DemoProviderError(f"demo provider did not answer on {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def banner(env: Environment, key_file: Path | None, config_path: str) -> str:
    url = f"http://{env.gateway.host}:{env.gateway.port}"
    groups = sorted({m.tier for m in env.gateway.models if m.tier} | {m.model_name for m in env.gateway.models})
    if env.gateway.routing.ml.enabled:
        groups.append(f"{env.gateway.routing.ml.alias} (ML routing)")
    # No key is ever printed: banners end up in journals and CI logs. A generated laptop key is named by its file.
    var = env.secrets.master_key.env_var
    shown = f"$(cat {key_file})" if key_file else f"${var}"
    described = (
        f"generated into {key_file} (owner-only; set {var} to choose one)" if key_file else f"from ${var} (not printed)"
    )
    lines = [
        f"gatekit gateway `{env.name}` starting on {url}",
        f"  LiteLLM config : {config_path}",
        f"  models         : {', '.join(groups)}",
        f"  master key     : {described}",
        f'  try            : curl -s {url}/v1/chat/completions -H "Authorization: Bearer {shown}" '
        '-H \'Content-Type: application/json\' -d \'{"model": "economy", "messages": '
        '[{"role": "user", "content": "hello"}]}\'',
        f"  claude code    : ANTHROPIC_BASE_URL={url} ANTHROPIC_AUTH_TOKEN=<master key> claude --model economy",
    ]
    if env.gateway.demo_provider.enabled:
        demo = env.gateway.demo_provider
        lines.append(f"  demo provider  : http://{demo.host}:{demo.port}/v1 (canned answers, not a model)")
    return "\n".join(lines)
