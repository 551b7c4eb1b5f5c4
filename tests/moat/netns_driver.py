"""Run inside `unshare -n` (a network namespace with only loopback): start the installed gateway under strace,
make one chat completion against the loopback demo provider, stop it, and print the outcome as JSON.

    python netns_driver.py PREFIX STRACE_LOG PORT DEMO_PORT
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

KEY = "sk-moat-test-key"
START_TIMEOUT = float(os.environ.get("GATEKIT_TEST_START_TIMEOUT", "240"))


def overrides(demo_port: int) -> list[str]:
    models = (
        "[{model_name: internal-small, tier: economy, demo: true},"
        " {model_name: internal-large, tier: premium, demo: true}]"
    )
    sets = [
        "database.enabled=false",
        "cache.enabled=false",
        "gateway.caching.backend=local",
        "gateway.config_sync.source=file",
        "observability.otlp_endpoint=null",
        "gateway.demo_provider.enabled=true",
        f"gateway.demo_provider.port={demo_port}",
        "gateway.drain.budget_seconds=5",
        f"gateway.models={models}",
    ]
    return [a for s in sets for a in ("--set", s)]


def wait_exited(log: Path, pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    marker = re.compile(rf"^{pid}\s+\+\+\+ (exited|killed)", re.M)  # strace pads the pid column
    while time.monotonic() < deadline:
        if log.exists() and marker.search(log.read_text(errors="replace")):
            return True
        time.sleep(0.2)
    return False


def main() -> int:
    prefix, log, port, demo_port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    env = {**os.environ, "GATEKIT_SECRET_MASTER_KEY": KEY, "LITELLM_SALT_KEY": "moat-test-salt"}
    cmd = ["strace", "-f", "-D", "--seccomp-bpf", "-e", "trace=connect", "-o", str(log)]
    cmd += [str(prefix / "bin" / "gatekit"), "up", "--env", "moat", "--port", str(port), *overrides(demo_port)]
    out: dict[str, object] = {}
    gateway_log = log.with_suffix(".gateway.log")
    with gateway_log.open("wb") as sink:
        # -D: strace runs as a detached grandchild, so this pid is the gateway itself and gets our SIGTERM.
        proc = subprocess.Popen(cmd, env=env, cwd=prefix, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while time.monotonic() - started < START_TIMEOUT and proc.poll() is None:
            try:
                if httpx.get(f"{url}/health/readiness", timeout=2).status_code == 200:
                    out["ready_seconds"] = round(time.monotonic() - started, 1)
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        if "ready_seconds" in out:
            response = httpx.post(
                f"{url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {KEY}"},
                json={"model": "economy", "messages": [{"role": "user", "content": "hello from the moat"}]},
                timeout=60,
            )
            out["status"] = response.status_code
            out["body"] = response.json()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    out["exit_code"] = proc.returncode
    out["trace_complete"] = wait_exited(log, proc.pid)
    out["pid"] = proc.pid
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
