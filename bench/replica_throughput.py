"""Replica throughput: gatekit with N workers vs vanilla `litellm --num_workers N`, side by side in one run.

Every server serves the same rendered LiteLLM config (the `local` environment) in front of one demo upstream
(`gatekit mock-llm`, fixed latency). All servers are started first (one at a time), then each measurement cell runs
every target in turn, the order alternated per round, so the ratios compare runs made minutes apart on the same
machine. Per cell: requests/s, p50/p99 latency, time to first token for streams, server CPU ms per request (user +
system CPU of the server's process tree / requests), the load generator's own CPU (to show it was not the limit), and
RSS per worker. The summary gives req/s per vCPU and the cost of a million requests on the prod task size.

    .venv/bin/python bench/replica_throughput.py --json /tmp/replicas.json           # full run
    .venv/bin/python bench/replica_throughput.py --duration 5 --rounds 1              # quick look

Not part of `make test`: results go to docs/performance.md with the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_overhead import REPO, demo_upstream, drive, free_port, machine, tree_cpu_s, tree_rss_mb, wait_ready

from gatekit.config import default_config_dir, load_environment
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config

# AWS Fargate on-demand list price, us-east-1, Linux/x86 (published by AWS since the January 2020 price cut and
# still the list price when this benchmark was written, 2026-11; not re-checked online from this machine).
FARGATE_VCPU_HOUR_USD = 0.04048
FARGATE_GB_HOUR_USD = 0.004445


@dataclass
class Target:
    kind: str  # gatekit | vanilla
    workers: int

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.workers}w"


@dataclass
class Server:
    target: Target
    url: str
    proc: subprocess.Popen[bytes]
    ready_s: float
    peak_rss_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample_rss(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_rss_mb = max(self.peak_rss_mb, tree_rss_mb(self.proc.pid))

    def stop(self) -> None:
        self._stop.set()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start(target: Target, workdir: Path, demo_port: int, key: str) -> Server:
    port = free_port()
    overrides = [
        f"gateway.demo_provider.port={demo_port}",
        f"gateway.port={port}",
        f"compute.cpu={1024 * target.workers}",
        f"gateway.workers={target.workers}",
    ]
    env = load_environment("local", default_config_dir(), overrides)
    proc_env = {**os.environ, "GATEKIT_MASTER_KEY": key, "GATEKIT_RUNTIME_DIR": str(workdir / target.name)}
    if target.kind == "vanilla":
        config_path = workdir / f"{target.name}.yaml"
        config_path.write_text(yaml.safe_dump(render_litellm_config(env), sort_keys=False))
        proc_env.update(render_environment(env).plain)
        proc_env["CONFIG_FILE_PATH"] = str(config_path)
        cmd = [str(Path(sys.executable).parent / "litellm"), "--config", str(config_path)]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", str(target.workers)]
        # uvicorn restarts a worker that does not answer its supervisor's ping within 5 s; importing LiteLLM on a
        # busy 2-core machine takes longer, and vanilla multi-worker servers then restart their workers forever.
        cmd += ["--timeout_worker_healthcheck", "600"]
    else:
        cmd = [sys.executable, "-m", "gatekit.cli", "serve", "--env", "local", "--port", str(port)]
        cmd += [a for o in overrides for a in ("--set", o)]
    log = (workdir / f"{target.name}.log").open("wb")
    began = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=proc_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=600)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    server = Server(target, url, proc, time.monotonic() - began)
    threading.Thread(target=server.sample_rss, daemon=True).start()
    return server


def worker_rss_mb(server: Server) -> float:
    """RSS of the serving processes / workers (vanilla: uvicorn's children; gatekit: the supervisor's workers)."""
    return tree_rss_mb(server.proc.pid) / server.target.workers


def client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_worker(server: Server, key: str) -> dict[str, dict[str, float]]:
    """gatekit only: connections and requests each worker has accepted so far, from the replica's `/metrics`."""
    if server.target.kind != "gatekit":
        return {}
    r = httpx.get(server.url + "/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=60)
    r.raise_for_status()
    out: dict[str, dict[str, float]] = {"connections": {}, "requests": {}}
    for line in r.text.splitlines():
        m = re.match(r'^gatekit_(connections|requests)_total\{worker="(\d+)"\} (\S+)$', line)
        if m:
            out[m.group(1)][m.group(2)] = float(m.group(3))
    return out


def measure(server: Server, key: str, mode: str, inflight: int, stream: bool, duration: float) -> dict[str, Any]:
    shares_before = per_worker(server, key)
    cpu_before, client_before = tree_cpu_s(server.proc.pid), client_cpu_s()
    stats = asyncio.run(drive(server.url, key, inflight, duration, stream))
    cpu = tree_cpu_s(server.proc.pid) - cpu_before
    if shares_before:  # what each worker took in this measurement (the /metrics scrapes add a connection each)
        after = per_worker(server, key)
        stats["per_worker"] = {
            kind: {w: v - shares_before[kind].get(w, 0) for w, v in after[kind].items()} for kind in after
        }
    stats["cpu_ms_per_request"] = 1000 * cpu / max(1, stats["requests"])
    stats["server_cpu_cores"] = cpu / duration
    stats["client_cpu_cores"] = (client_cpu_s() - client_before) / duration
    return {"target": server.target.name, "workers": server.target.workers, "mode": mode, **stats}


MODES = (("sequential", 1, False), ("concurrent", 0, False), ("stream-concurrent", 0, True))


def run(targets: list[Target], args: argparse.Namespace) -> dict[str, Any]:
    key = "sk-bench-" + secrets.token_hex(12)
    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg(), "runs": [], "servers": []}
    results["method"] = {k: v for k, v in vars(args).items() if k != "json"}
    with tempfile.TemporaryDirectory(prefix="gatekit-replica-bench-") as tmp, demo_upstream(args.latency_ms) as demo:
        servers: list[Server] = []
        try:
            for target in targets:  # one at a time: cold starts do not compete for the CPU
                servers.append(start(target, Path(tmp), demo, key))
                print(f"{target.name} ready in {servers[-1].ready_s:.1f} s", flush=True)
            for server in servers:
                asyncio.run(drive(server.url, key, 4 * server.target.workers, args.warmup, False))
            for mode, inflight, stream in MODES:
                for round_ in range(args.rounds):
                    for server in servers if round_ % 2 == 0 else servers[::-1]:
                        row = measure(server, key, mode, inflight or args.concurrency, stream, args.duration)
                        row["round"] = round_
                        results["runs"].append(row)
                        print(json.dumps(row), flush=True)
            for server in servers:
                results["servers"].append(
                    {
                        "target": server.target.name,
                        "ready_s": server.ready_s,
                        "rss_per_worker_mb": worker_rss_mb(server),
                        "peak_rss_mb": server.peak_rss_mb,
                    }
                )
        finally:
            for server in servers:
                server.stop()
    results["load_after"] = os.getloadavg()
    results["scenarios"] = medians(results["runs"])
    results["summary"] = summary(results["scenarios"], args.task_vcpu, args.task_memory_gib, args.utilization)
    return results


def medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in runs:
        groups.setdefault((row["mode"], row["target"]), []).append(row)
    out = []
    for (mode, target), rows in groups.items():
        cell: dict[str, Any] = {"mode": mode, "target": target, "workers": rows[0]["workers"], "rounds": len(rows)}
        cell["requests"] = sum(r["requests"] for r in rows)
        cell["errors"] = sum(r["errors"] for r in rows)
        for stat in ("rps", "p50_ms", "p99_ms", "ttft_p50_ms", "cpu_ms_per_request", "client_cpu_cores"):
            values = [r[stat] for r in rows if r[stat] is not None]
            cell[stat] = statistics.median(values) if values else None
        out.append(cell)
    return out


def summary(cells: list[dict[str, Any]], vcpu: float, memory_gib: float, utilization: float) -> dict[str, Any]:
    by = {(c["mode"], c["target"]): c for c in cells}
    hourly = vcpu * FARGATE_VCPU_HOUR_USD + memory_gib * FARGATE_GB_HOUR_USD
    out: dict[str, Any] = {"task_hour_usd": hourly, "ratios": {}, "cost_per_million_usd": {}, "rps_per_vcpu": {}}
    for (mode, target), cell in by.items():
        if mode == "concurrent":
            out["rps_per_vcpu"][target] = cell["rps"] / cell["workers"]
            # One prod task is assumed to serve what this many workers served here, at the autoscaling utilisation.
            out["cost_per_million_usd"][target] = hourly / (cell["rps"] * utilization * 3600) * 1e6
    for mode in {m for m, _ in by}:
        for workers in (1, 2):
            g, v = by.get((mode, f"gatekit-{workers}w")), by.get((mode, f"vanilla-{workers}w"))
            if g and v:
                out["ratios"][f"{mode} gatekit/vanilla {workers}w"] = {
                    "rps": g["rps"] / v["rps"],
                    "p50": g["p50_ms"] / v["p50_ms"],
                    "cpu_per_request": g["cpu_ms_per_request"] / v["cpu_ms_per_request"],
                }
        g1, g2 = by.get((mode, "gatekit-1w")), by.get((mode, "gatekit-2w"))
        if g1 and g2:
            out["ratios"][f"{mode} gatekit 2w/1w"] = {"rps": g2["rps"] / g1["rps"]}
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| mode | target | requests | errors | req/s | p50 ms | p99 ms | TTFT p50 ms | CPU ms/req | client CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in results["scenarios"]:
        ttft = f"{c['ttft_p50_ms']:.1f}" if c["ttft_p50_ms"] is not None else "-"
        lines.append(
            f"| {c['mode']} | {c['target']} | {c['requests']} | {c['errors']} | {c['rps']:.1f} | {c['p50_ms']:.1f} | "
            f"{c['p99_ms']:.1f} | {ttft} | {c['cpu_ms_per_request']:.2f} | {c['client_cpu_cores']:.2f} |"
        )
    lines += ["", "| ratio | req/s | p50 | CPU/request |", "|---|---:|---:|---:|"]
    for name, r in sorted(results["summary"]["ratios"].items()):
        p50 = f"{r['p50']:.3f}" if "p50" in r else "-"
        cpu = f"{r['cpu_per_request']:.3f}" if "cpu_per_request" in r else "-"
        lines.append(f"| {name} | {r['rps']:.3f} | {p50} | {cpu} |")
    lines += ["", "| target | ready s | RSS/worker MiB | peak RSS MiB | req/s per vCPU | $ per 1M requests |"]
    lines.append("|---|---:|---:|---:|---:|---:|")
    s = results["summary"]
    for server in results["servers"]:
        t = server["target"]
        lines.append(
            f"| {t} | {server['ready_s']:.1f} | {server['rss_per_worker_mb']:.0f} | {server['peak_rss_mb']:.0f} | "
            f"{s['rps_per_vcpu'].get(t, float('nan')):.1f} | {s['cost_per_million_usd'].get(t, float('nan')):.3f} |"
        )
    return "\n".join(lines)


def _interrupt(sig: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM also stops the servers this script started


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds per measurement.")
    parser.add_argument("--rounds", type=int, default=3, help="Measurements per target and mode (medians).")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=0, help="Upstream latency.")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--task-vcpu", type=float, default=2, help="Prod task size (config/environments/prod.yaml).")
    parser.add_argument("--task-memory-gib", type=float, default=4)
    parser.add_argument("--utilization", type=float, default=0.6, help="Share of the measured maximum a task runs at.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    targets = [Target(kind, n) for n in args.workers for kind in ("vanilla", "gatekit")]
    results = run(targets, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
