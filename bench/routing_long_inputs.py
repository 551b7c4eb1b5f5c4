"""Decision latency on long inputs (up to 1 MB) and the event-loop stall while deciding, for the default strategy.

Each decision is `RoutingEngine.decide(messages)` end to end (window cut, tokenize the window, embed, adapter,
threshold), timed in CPU time of the deciding thread (time.thread_time) and wall time. The stall check runs an asyncio
loop with a 1 ms ticker while requests are decided the way the LiteLLM hook does it (asyncio.to_thread) and reports
the largest lateness of a tick. Used by bench/routing_latency.py (`--only-long`), importable on its own.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from gatekit.config import default_config_dir, load_environment
from gatekit.routing.engine import RoutingEngine
from gatekit.routing.spec import spec_from_env

SIZES = (1_000, 10_000, 100_000, 1_000_000)


def _conversations() -> dict[str, list[dict[str, str]]]:
    line = "2026-11-29T10:00:00Z INFO worker-3 GET /api/v1/items/42 200 17ms\n"
    out = {}
    for size in SIZES:
        paste = (line * (size // len(line) + 1))[:size]
        out[f"paste {size // 1000} KB + question"] = [{"role": "user", "content": paste + "\nWhy is item 42 slow?"}]
    turns = [{"role": "system", "content": "You are a helpful assistant. " * 400}]
    for i in range(50):
        turns += [{"role": "user", "content": f"step {i}: " + "details " * 2000},
                  {"role": "assistant", "content": "ok " * 2000}]  # fmt: skip
    turns.append({"role": "user", "content": "continue"})
    out["50-turn conversation, ~2 MB"] = turns
    return out


def engine(strategy: str = "mlp") -> RoutingEngine:
    env = load_environment("local", default_config_dir(), ["gateway.routing.ml.enabled=true",
                                                           f"gateway.routing.ml.strategy={strategy}"])  # fmt: skip
    e = RoutingEngine(spec_from_env(env))
    e.load()
    return e


def latency(e: RoutingEngine, iterations: int) -> list[dict[str, Any]]:
    rows = []
    for name, messages in _conversations().items():
        cpu, wall = [], []
        for _ in range(iterations):
            c0, w0 = time.thread_time(), time.perf_counter()
            e.decide(messages)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
        rows.append({"input": name, "cpu_p50_ms": round(float(np.percentile(cpu, 50)) * 1000, 3),
                     "cpu_p99_ms": round(float(np.percentile(cpu, 99)) * 1000, 3),
                     "wall_p99_ms": round(float(np.percentile(wall, 99)) * 1000, 3)})  # fmt: skip
    return rows


async def _stall(e: RoutingEngine, requests: int) -> float:
    convs = list(_conversations().values())
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - t0 - 0.001)

    tick = asyncio.create_task(ticker())
    if requests:
        await asyncio.gather(*(asyncio.to_thread(e.decide, convs[i % len(convs)]) for i in range(requests)))
    else:  # baseline: the same ticker with no decisions (what the machine itself adds)
        await asyncio.sleep(2.0)
    done.set()
    await tick
    return worst * 1000


def stall_ms(e: RoutingEngine, requests: int = 200) -> float:
    return round(asyncio.run(_stall(e, requests)), 3)


def run(iterations: int = 200) -> dict[str, Any]:
    e = engine()
    return {"strategy": e.spec.strategy, "decisions": latency(e, iterations), "max_event_loop_stall_ms": stall_ms(e),
            "baseline_stall_ms_no_decisions": stall_ms(e, 0)}  # fmt: skip


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
