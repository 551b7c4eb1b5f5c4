"""Run inside `unshare -n` (a network namespace with only loopback): start a container registry (the CNCF
distribution registry, Debian's docker-registry) with TLS and basic auth on a free loopback port, then run each
given bash script in order with REGISTRY=127.0.0.1:<port> in its environment, and print every script's outcome as
one JSON line. The registry is stopped at the end.

    python registry_driver.py SPEC.json

SPEC: {"work": DIR, "cert": PEM, "key": PEM, "ca": PEM, "htpasswd": FILE, "scripts": [[NAME, BASH], ...],
       "env": {...}}
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def registry_config(spec: dict[str, object], port: int, storage: Path) -> str:
    return json.dumps({  # the registry reads YAML; JSON is YAML
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}},
        "http": {"addr": f"127.0.0.1:{port}", "tls": {"certificate": spec["cert"], "key": spec["key"]}},
        "auth": {"htpasswd": {"realm": "gatekit-rehearsal", "path": spec["htpasswd"]}},
    })  # fmt: skip


def wait_ready(port: int, ca: str, proc: subprocess.Popen[bytes]) -> float:
    """The registry answers /v2/ over TLS (401 without credentials: auth is on)."""
    context = ssl.create_default_context(cafile=ca)
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"the registry exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{port}/v2/", context=context, timeout=5)
            raise RuntimeError("the registry answered /v2/ without credentials: basic auth is not on")
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return round(time.monotonic() - started, 1)
            raise
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise RuntimeError(f"the registry was not ready within {READY_TIMEOUT} s")


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    work = Path(spec["work"])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    port = free_port()
    config = work / "registry.yml"
    config.write_text(registry_config(spec, port, work / "registry-storage"))
    out: dict[str, object] = {"registry": f"127.0.0.1:{port}"}
    log = (work / "registry.log").open("wb")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        out["ready_seconds"] = wait_ready(port, spec["ca"], proc)
        env = {**os.environ, **spec["env"], "REGISTRY": f"127.0.0.1:{port}"}
        for name, script in spec["scripts"]:
            began = time.monotonic()
            result = subprocess.run(
                ["bash", "-c", script], env=env, cwd=work, capture_output=True, text=True, timeout=600, check=False
            )
            seconds = round(time.monotonic() - began, 1)
            out[name] = {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr, "seconds": seconds}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
