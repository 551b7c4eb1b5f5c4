"""Gateway overhead: vanilla LiteLLM proxy vs the gatekit gateway, side by side in one run.

Both serve the same rendered LiteLLM config (the `local` environment, same models, same master key) in front of one
demo upstream (`gatekit mock-llm`) with a fixed latency. For each upstream latency, each server is started cold
(time to ready is measured), warmed up, then driven sequentially and with N requests in flight for `--duration`
seconds each. Every request carries a fresh prompt, so the response cache never answers instead of the upstream.

    .venv/bin/python bench/gateway_overhead.py                       # full run (30 s per measurement)
    .venv/bin/python bench/gateway_overhead.py --duration 5 --json /tmp/bench.json

Not part of `make test`: numbers go to docs/performance.md with the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gatekit.config import default_config_dir, load_environment  # noqa: E402
from gatekit.render.env import render_environment  # noqa: E402
from gatekit.render.litellm import render_litellm_config  # noqa: E402

TARGETS = ("vanilla", "gatekit")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return pids


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants: less sensitive to machine load than wall time."""
    ticks = 0
    for current in _tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants, from /proc (MiB)."""
    total = 0
    for current in _tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total / 1024


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    cold_start_s: float
    cold_start_cpu_s: float = 0.0
    idle_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample_rss(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_rss_mb = max(self.peak_rss_mb, tree_rss_mb(self.proc.pid))

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: exited with {proc.returncode}")
        try:
            if httpx.get(url + "/health/readiness", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url}: not ready in {timeout} s")


def start_server(name: str, workdir: Path, demo_port: int, key: str) -> Server:
    port = free_port()
    overrides = [f"gateway.demo_provider.port={demo_port}", f"gateway.port={port}"]
    env = load_environment("local", default_config_dir(), overrides)
    proc_env = {**os.environ, "GATEKIT_MASTER_KEY": key, "GATEKIT_RUNTIME_DIR": str(workdir / name)}
    if name == "vanilla":
        config_path = workdir / "vanilla-litellm.yaml"
        config_path.write_text(yaml.safe_dump(render_litellm_config(env), sort_keys=False))
        proc_env.update(render_environment(env).plain)
        proc_env["CONFIG_FILE_PATH"] = str(config_path)  # as gatekit sets it; the ML routing callback reads it
        cmd = [str(Path(sys.executable).parent / "litellm"), "--config", str(config_path)]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    else:
        cmd = [sys.executable, "-m", "gatekit.cli", "serve", "--env", "local", "--port", str(port)]
        cmd += [a for o in overrides for a in ("--set", o)]
    log = (workdir / f"{name}.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=workdir, env=proc_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    server = Server(name, url, proc, time.monotonic() - started, tree_cpu_s(proc.pid))
    threading.Thread(target=server.sample_rss, daemon=True).start()
    return server


@contextmanager
def demo_upstream(latency_ms: int) -> Iterator[int]:
    port = free_port()
    cmd = [sys.executable, "-m", "gatekit.cli", "mock-llm", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--latency-ms", str(latency_ms), "--chunk-delay-ms", "0"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


async def drive(url: str, key: str, concurrency: int, duration: float, stream: bool = False) -> dict[str, Any]:
    """Keep `concurrency` chat requests in flight for `duration` seconds, each with a fresh prompt (the response cache
    never answers); streamed or not. Requests/s, p50/p99 latency, and time to first token for streams."""
    latencies: list[float] = []
    ttft: list[float] = []
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    # A connection per in-flight request (limit = concurrency), so the kernel spreads them over the workers.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        url, headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:
        end = time.perf_counter() + duration

        async def one(n: int) -> None:
            i = 0
            while time.perf_counter() < end:
                prompt = f"bench {n}-{i} {secrets.token_hex(6)}"  # fresh: the response cache never answers
                body = {"model": "economy", "messages": [{"role": "user", "content": prompt}], "stream": stream}
                began = time.perf_counter()
                first = None
                try:
                    async with session.post("/v1/chat/completions", json=body) as r:
                        async for _chunk in r.content.iter_any():
                            first = first or time.perf_counter()
                        if r.status != 200:
                            errors.append(str(r.status))
                            continue
                except aiohttp.ClientError as exc:
                    errors.append(type(exc).__name__)
                    continue
                latencies.append(time.perf_counter() - began)
                if first is not None:
                    ttft.append(first - began)
                i += 1

        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - began

    def pct(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100)[p - 1] * 1000 if len(values) >= 2 else float("nan")

    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "ttft_p50_ms": pct(ttft, 50) if stream else None,
    }


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def run(latencies: list[int], duration: float, concurrency: int, warmup: float, rounds: int) -> dict[str, Any]:
    key = "sk-bench-" + secrets.token_hex(12)
    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg(), "runs": [], "servers": []}
    results["method"] = {
        "duration_s": duration,
        "concurrency": concurrency,
        "warmup_s": warmup,
        "rounds": rounds,
    }
    with tempfile.TemporaryDirectory(prefix="gatekit-bench-") as tmp:
        for latency in latencies:
            with demo_upstream(latency) as demo_port:
                servers: dict[str, Server] = {}
                try:
                    for name in TARGETS:  # one at a time, so cold starts do not compete for the CPU
                        servers[name] = start_server(name, Path(tmp), demo_port, key)
                        print(f"[{latency} ms] {name} ready in {servers[name].cold_start_s:.1f} s", flush=True)
                    for server in servers.values():
                        asyncio.run(drive(server.url, key, 4, warmup))
                        time.sleep(2)
                        server.idle_rss_mb = tree_rss_mb(server.proc.pid)
                    for mode, inflight in (("sequential", 1), (f"concurrent-{concurrency}", concurrency)):
                        for round_ in range(rounds):
                            # Alternate the order, so neither target always runs on a machine the other warmed.
                            for name in TARGETS if round_ % 2 == 0 else TARGETS[::-1]:
                                cpu_before = tree_cpu_s(servers[name].proc.pid)
                                stats = asyncio.run(drive(servers[name].url, key, inflight, duration))
                                cpu = tree_cpu_s(servers[name].proc.pid) - cpu_before
                                stats["cpu_ms_per_request"] = 1000 * cpu / max(1, stats["requests"])
                                row = {"upstream_ms": latency, "target": name, "mode": mode, "round": round_, **stats}
                                results["runs"].append(row)
                                print(json.dumps(row), flush=True)
                finally:
                    for server in servers.values():
                        server.stop()
                        results["servers"].append(
                            {
                                "upstream_ms": latency,
                                "target": server.name,
                                "cold_start_s": server.cold_start_s,
                                "cold_start_cpu_s": server.cold_start_cpu_s,
                                "idle_rss_mb": server.idle_rss_mb,
                                "peak_rss_mb": server.peak_rss_mb,
                            }
                        )
    results["load_after"] = os.getloadavg()
    results["scenarios"] = medians(results["runs"])
    return results


def medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (upstream, mode, target): the median of each statistic over the rounds."""
    groups: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
    for row in runs:
        groups.setdefault((row["upstream_ms"], row["mode"], row["target"]), []).append(row)
    out = []
    order = sorted(groups, key=lambda k: (k[0], k[1] != "sequential", k[2] != "vanilla"))
    for latency, mode, target in order:
        rows = groups[(latency, mode, target)]
        summary: dict[str, Any] = {"upstream_ms": latency, "mode": mode, "target": target, "rounds": len(rows)}
        summary["requests"] = sum(r["requests"] for r in rows)
        summary["errors"] = sum(r["errors"] for r in rows)
        for stat in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request"):
            summary[stat] = statistics.median(r[stat] for r in rows)
        out.append(summary)
    return out


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    rows = {(r["upstream_ms"], r["mode"], r["target"]): r for r in results["scenarios"]}
    for (latency, mode, target), row in rows.items():
        if target != "gatekit":
            continue
        base = rows[(latency, mode, "vanilla")]
        out.append(
            {
                "upstream_ms": latency,
                "mode": mode,
                "p50_ratio": row["p50_ms"] / base["p50_ms"],
                "p99_ratio": row["p99_ms"] / base["p99_ms"],
                "rps_ratio": row["rps"] / base["rps"],
                "cpu_per_request_ratio": row["cpu_ms_per_request"] / base["cpu_ms_per_request"],
            }
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| upstream | mode | target | requests | errors | req/s | p50 ms | p99 ms | server CPU ms/request |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["scenarios"]:
        lines.append(
            f"| {r['upstream_ms']} ms | {r['mode']} | {r['target']} | {r['requests']} | {r['errors']} | "
            f"{r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['cpu_ms_per_request']:.2f} |"
        )
    lines += [
        "",
        "| upstream | mode | p50 gatekit/vanilla | p99 gatekit/vanilla | req/s gatekit/vanilla | CPU/request |",
    ]
    lines.append("|---:|---|---:|---:|---:|---:|")
    for r in results["ratios"]:
        lines.append(
            f"| {r['upstream_ms']} ms | {r['mode']} | {r['p50_ratio']:.3f} | {r['p99_ratio']:.3f} | "
            f"{r['rps_ratio']:.3f} | {r['cpu_per_request_ratio']:.3f} |"
        )
    lines += [
        "",
        "| upstream | target | cold start to ready s | CPU s to ready | idle RSS MiB | peak RSS MiB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results["servers"]:
        lines.append(
            f"| {r['upstream_ms']} ms | {r['target']} | {r['cold_start_s']:.1f} | {r['cold_start_cpu_s']:.1f} | "
            f"{r['idle_rss_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def _interrupt(sig: int, frame: Any) -> None:
    raise KeyboardInterrupt  # so SIGTERM also stops the servers this script started


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds per measurement (>= 30 for the doc).")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50], help="Upstream latencies to test.")
    parser.add_argument("--warmup", type=float, default=5.0, help="Warm-up seconds per server (not measured).")
    parser.add_argument("--rounds", type=int, default=1, help="Measurements per target and mode (medians reported).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the raw results here.")
    args = parser.parse_args()
    results = run(args.latency_ms, args.duration, args.concurrency, args.warmup, args.rounds)
    results["ratios"] = ratios(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
