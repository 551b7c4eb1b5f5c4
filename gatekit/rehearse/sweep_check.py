"""The rehearsal's `route_sweep` check (security, issue 12): `gatekit validate --sweep-only` — LiteLLM's whole route
table and gatekit's routes, called without a key — run from the gateway's own install against a running replica of
the rehearsed target (database on), from a loopback address outside the admin networks. Only the health probes (and
/metrics, the in-pod scrape path on loopback) may answer.

The rehearsal stands in for the operator's admin network with 127.0.0.1/32 (gatekit.rehearse.aws_target), so the
sweep comes from 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback), and a contrast probe shows the source
address is what decides: a management route is hidden (404) from the sweep's address and reaches LiteLLM's
authentication (401) from the admin address."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx

from gatekit.rehearse.processes import Running
from gatekit.rehearse.report import Report
from gatekit.rehearse.venv import GatewayVenv

NON_ADMIN_ADDRESS = "127.0.0.2"
ADMIN_ADDRESS = "127.0.0.1"
CONTRAST_ROUTE = ("GET", "/key/list")
SWEEP_TIMEOUT_SECONDS = 900


def _status(url: str, local_address: str) -> int:
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(base_url=url, timeout=30, transport=transport) as client:
        return client.request(*CONTRAST_ROUTE).status_code


_ROUTE_TABLES: dict[Path, str] = {}


def route_table(venv: GatewayVenv, workdir: Path) -> Path:
    """The installed LiteLLM's route table, read once per install (the import costs seconds per rehearsal), written
    into this rehearsal's work directory."""
    if venv.root not in _ROUTE_TABLES:
        argv = [str(venv.python), "-m", "gatekit.runtime.sweep"]
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=SWEEP_TIMEOUT_SECONDS, env=env, check=True)
        if len(json.loads(done.stdout)) < 300:
            raise RuntimeError(f"the route table of {venv.root} is implausibly short")
        _ROUTE_TABLES[venv.root] = done.stdout
    out = workdir / "sweep-routes.json"
    out.write_text(_ROUTE_TABLES[venv.root])
    return out


def _validate_sweep(venv: GatewayVenv, url: str, routes: Path) -> tuple[int, dict[str, object] | None, str]:
    argv = [str(venv.bin / "gatekit"), "validate", "--sweep-only", "--json", "--url", url,
            "--source-address", NON_ADMIN_ADDRESS, "--routes-file", str(routes)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=SWEEP_TIMEOUT_SECONDS, check=False)
    try:
        (gate,) = json.loads(done.stdout)["gates"]
    except (json.JSONDecodeError, KeyError, ValueError):
        return done.returncode, None, (done.stdout + done.stderr)[-2000:]
    return done.returncode, gate, ""


def route_sweep(report: Report, replicas: list[Running], venv: GatewayVenv, workdir: Path) -> None:
    replica = replicas[0]
    started = time.monotonic()
    try:
        code, gate, output = _validate_sweep(venv, replica.base_url, route_table(venv, workdir))
        contrast = {"non_admin": _status(replica.base_url, NON_ADMIN_ADDRESS),
                    "admin": _status(replica.base_url, ADMIN_ADDRESS)}  # fmt: skip
    except (httpx.HTTPError, subprocess.SubprocessError, RuntimeError, ValueError) as exc:
        report.add("route_sweep", False, replica=replica.name, error=f"{type(exc).__name__}: {exc}"[:300])
        return
    ok = code == 0 and gate is not None and gate["status"] == "PASS" and contrast == {"non_admin": 404, "admin": 401}
    report.add(
        "route_sweep",
        ok,
        replica=replica.name,
        source=NON_ADMIN_ADDRESS,
        command="gatekit validate --sweep-only",
        exit_code=code,
        gate=gate,
        output=output or None,
        seconds=round(time.monotonic() - started, 1),
        contrast={"route": " ".join(CONTRAST_ROUTE), **contrast},
    )
