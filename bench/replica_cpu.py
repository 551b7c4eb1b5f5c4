"""Server CPU per request of gatekit and vanilla replicas: a short, load-tolerant look at what each request costs.

Wall-clock throughput on a shared 2-core machine measures the scheduler; CPU time does not (much): this script
reports only the user + system CPU of each server's process tree divided by the requests it served. It reuses
`bench/replica_throughput.py` (same rendered `local` config, same `gatekit mock-llm` upstream at 0 ms, same load
generator): every target is started first (one at a time), then each round runs every target for `--duration`
seconds of non-streaming requests at `--concurrency` in flight, the order reversed every other round, and the median
over the rounds is printed with the load average around the run.

    .venv/bin/python bench/replica_cpu.py                                   # gatekit 1w, gatekit 2w, vanilla 2w
    .venv/bin/python bench/replica_cpu.py --targets gatekit-2 --profile /tmp/prof   # + py-spy of round 0

`--profile DIR` records round 0 of every target with py-spy (`py-spy record --subprocesses`, collapsed stacks in
DIR/<target>.txt; py-spy must be on PATH or beside the interpreter). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_overhead import demo_upstream, drive, tree_cpu_s
from replica_throughput import Server, Target, measure, start


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("--profile needs py-spy (pip install py-spy into the venv)")
    return found


def profiled(server: Server, out: Path, duration: float) -> subprocess.Popen[bytes]:
    cmd = [py_spy(), "record", "--subprocesses", "--nonblocking", "--format", "raw", "--rate", "200"]
    cmd += ["--duration", str(int(duration)), "--output", str(out), "--pid", str(server.proc.pid)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", nargs="+", default=["gatekit-1", "gatekit-2", "vanilla-2"])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--idle", type=float, default=10.0, help="Seconds of idle CPU measured per server.")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    targets = [Target(t.split("-")[0], int(t.split("-")[1])) for t in args.targets]
    key = "sk-bench-" + secrets.token_hex(12)
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gatekit-cpu-bench-") as tmp, demo_upstream(0) as demo:
        servers: list[Server] = []
        idle: dict[str, float] = {}
        try:
            for target in targets:
                servers.append(start(target, Path(tmp), demo, key))
                print(f"{target.name} ready in {servers[-1].ready_s:.1f} s", flush=True)
            for server in servers:
                asyncio.run(drive(server.url, key, args.concurrency, args.warmup, False))
            for server in servers:  # background work (pollers, exporters, supervisors) when no request comes
                before = tree_cpu_s(server.proc.pid)
                time.sleep(args.idle)
                idle[server.target.name] = (tree_cpu_s(server.proc.pid) - before) / args.idle
                print(f"{server.target.name} idle: {idle[server.target.name]:.3f} cores", flush=True)
            for round_ in range(args.rounds):
                for server in servers if round_ % 2 == 0 else servers[::-1]:
                    spy = None
                    if args.profile and round_ == 0:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        spy = profiled(server, args.profile / f"{server.target.name}.txt", args.duration)
                    row = measure(server, key, "concurrent", args.concurrency, False, args.duration)
                    if spy is not None:
                        spy.wait(60)
                    row["round"], row["load1"] = round_, os.getloadavg()[0]
                    rows.append(row)
                    print(
                        json.dumps(
                            {
                                k: row[k]
                                for k in (
                                    "target",
                                    "round",
                                    "requests",
                                    "errors",
                                    "rps",
                                    "cpu_ms_per_request",
                                    "server_cpu_cores",
                                    "load1",
                                )
                            }
                        ),
                        flush=True,
                    )
        finally:
            for server in servers:
                server.stop()
    load_after = os.getloadavg()
    print(f"load average before {load_before}, after {load_after}")
    print("| target | rounds | CPU ms/request (median) | per round | req/s (median) | errors |")
    print("|---|---:|---:|---|---:|---:|")
    for target in targets:
        mine = [r for r in rows if r["target"] == target.name]
        cpu = [r["cpu_ms_per_request"] for r in mine]
        rps = [r["rps"] for r in mine]
        print(
            f"| {target.name} | {len(mine)} | {statistics.median(cpu):.2f} | "
            f"{', '.join(f'{c:.1f}' for c in cpu)} | {statistics.median(rps):.1f} | {sum(r['errors'] for r in mine)} |"
        )
    if args.json:
        record = {"load_before": load_before, "load_after": load_after, "idle": idle, "rows": rows}
        args.json.write_text(json.dumps(record))


if __name__ == "__main__":
    main()
