"""ML routing benchmark: decision latency on one CPU core, the encoder trade-off, llmrouter-lib's route_single,
and the gateway's cold start and RSS with routing off and on.

    .venv/bin/python bench/routing_latency.py [--iterations 2000] [--gateway-runs 1] [--markdown]

Method: the process pins itself to CPU 0 (like `taskset -c 0`) with one BLAS thread. Prompts are the shipped dataset's
held-out prompts plus synthetic ones of 16 to 256 tokens; each decision is `RoutingEngine.decide(prompt)` end to end
(tokenize, embed, adapter, threshold), timed with perf_counter. llmrouter-lib runs in the training venv when present.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gatekit.config import default_config_dir, load_environment  # noqa: E402
from gatekit.routing.dataset import load_labelled  # noqa: E402
from gatekit.routing.engine import RoutingEngine  # noqa: E402
from gatekit.routing.spec import spec_from_env  # noqa: E402

STRATEGIES = ("knn", "svm", "mlp", "mf", "elo", "smallest_llm")
TRAIN_PYTHON = REPO / ".venv-train" / "bin" / "python"


def prompts() -> list[str]:
    spec = spec_from_env(load_environment("local", default_config_dir(), []))
    held = [
        p.prompt for p in load_labelled(REPO / "data/routing/prompts.jsonl", spec.tier_names) if p.split == "held_out"
    ]
    words = ["refactor", "the", "payment", "service", "so", "retries", "are", "idempotent", "and", "traces"]
    synthetic = [" ".join(words[i % len(words)] for i in range(n)) for n in (16, 64, 128, 200, 240)]
    return held + synthetic


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, q))


def decision_latency(iterations: int) -> list[dict[str, object]]:
    env = load_environment("local", default_config_dir(), ["gateway.routing.ml.enabled=true"])
    base = spec_from_env(env)
    out = []
    for strategy in STRATEGIES:
        engine = RoutingEngine(base.__class__(**{**base.__dict__, "strategy": strategy}))
        engine.load()
        texts = prompts()
        encoder = engine._encoder
        counts = [encoder.token_count(t) for t in texts] if encoder else []
        for t in texts[:50]:
            engine.decide(t)
        samples, cpu = [], []
        for i in range(iterations):
            text = texts[i % len(texts)]
            start, start_cpu = time.perf_counter(), time.thread_time()
            engine.decide(text)
            cpu.append(time.thread_time() - start_cpu)
            samples.append(time.perf_counter() - start)
        out.append({
            "strategy": strategy,
            "p50_ms": percentile_ms(samples, 50),
            "p99_ms": percentile_ms(samples, 99),
            "cpu_p50_ms": percentile_ms(cpu, 50),
            "cpu_p99_ms": percentile_ms(cpu, 99),
            "max_tokens_seen": max(counts) if counts else 0,
            "decisions": iterations,
        })  # fmt: skip
    return out


def transformer_latency(tokens: int = 256, runs: int = 3) -> float:
    """The alternative we did not ship: the full 6-layer MiniLM forward pass in numpy (ms per prompt)."""
    from safetensors.numpy import load_file

    from gatekit.routing.encoder import minilm_model_dir

    w = load_file(str(minilm_model_dir() / "model.safetensors"))

    def ln(x: np.ndarray, p: str) -> np.ndarray:
        m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-12) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    ids = np.arange(1000, 1000 + tokens)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:tokens]
    x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        h = x
        for layer in range(6):
            p = f"encoder.layer.{layer}."
            q, k, v = (
                lin(h, p + f"attention.self.{n}").reshape(tokens, 12, 32).transpose(1, 0, 2)
                for n in ("query", "key", "value")
            )
            a = q @ k.transpose(0, 2, 1) / np.sqrt(32)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            c = (a @ v).transpose(1, 0, 2).reshape(tokens, 384)
            h = ln(lin(c, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
            g = lin(h, p + "intermediate.dense")
            g = 0.5 * g * (1 + np.tanh(0.7978845608 * (g + 0.044715 * g**3)))
            h = ln(lin(g, p + "output.dense") + h, p + "output.LayerNorm")
        timings.append(time.perf_counter() - start)
    return float(np.median(timings) * 1000)


LLMROUTER_PROBE = r"""
import json, pickle, sys, tempfile, time, os
import numpy as np
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
result = {}
from sklearn.neighbors import KNeighborsClassifier
from llmrouter.utils import get_longformer_embedding, load_model, save_model
try:
    get_longformer_embedding("What is the capital of Norway?")
    result["longformer"] = "ran"
except Exception as exc:
    result["longformer"] = f"{type(exc).__name__}: {str(exc)[:160]}"
# The rest of KNNRouter.route_single: it re-reads its pickle on every call, then predicts.
emb = np.load(sys.argv[1])
knn = KNeighborsClassifier(n_neighbors=5, metric="cosine").fit(emb, np.arange(len(emb)) % 2)
path = os.path.join(tempfile.mkdtemp(), "knn.pkl")
save_model(knn, path)
samples = []
for i in range(300):
    q = emb[i % len(emb)][None, :]
    t = time.perf_counter(); load_model(path).predict(q); samples.append(time.perf_counter() - t)
result["reload_and_predict_p50_ms"] = float(np.percentile(samples, 50) * 1000)
result["reload_and_predict_p99_ms"] = float(np.percentile(samples, 99) * 1000)
print("RESULT" + json.dumps(result))
"""


def llmrouter_route_single(tmp: Path) -> dict[str, object]:
    if not TRAIN_PYTHON.exists():
        return {"skipped": f"no training venv at {TRAIN_PYTHON}"}
    from safetensors.numpy import load_file

    from gatekit.routing.engine import default_artifact_dir

    emb = load_file(str(default_artifact_dir("knn") / "weights.safetensors"))["embeddings"]
    np.save(tmp / "emb.npy", emb)
    cmd = [
        "taskset",
        "-c",
        str(min(os.sched_getaffinity(0))),
        str(TRAIN_PYTHON),
        "-c",
        LLMROUTER_PROBE,
        str(tmp / "emb.npy"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "0"})
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT")), None)
    return json.loads(line[6:]) if line else {"error": done.stderr[-500:]}


ENGINE_LOAD = (
    "import time; t = time.perf_counter()\n"
    "from gatekit.config import default_config_dir, load_environment\n"
    "from gatekit.routing.engine import RoutingEngine\n"
    "from gatekit.routing.spec import spec_from_env\n"
    "env = load_environment('local', default_config_dir(), ['gateway.routing.ml.enabled=true'])\n"
    "t1 = time.perf_counter(); e = RoutingEngine(spec_from_env(env)); e.load(); e.decide('hi')\n"
    "print(time.perf_counter() - t1)\n"
)


def engine_cold_load_s(runs: int = 3) -> float:
    """Process-fresh: encoder + shipped knn artifact load and a first decision (the routing share of cold start)."""
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", ENGINE_LOAD], cwd=REPO, capture_output=True, text=True, check=True)
        times.append(float(done.stdout.strip()))
    return float(np.median(times))


def rss_mb(pid: int) -> float:
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().split()
            if int(proc.name) == pid or int(stat[3]) == pid:
                total += int(
                    next(ln for ln in (proc / "status").read_text().splitlines() if ln.startswith("VmRSS")).split()[1]
                )
        except (OSError, StopIteration, IndexError):
            continue
    return total / 1024


def gateway_start(routing: bool, tmp: Path) -> dict[str, float]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [sys.executable, "-m", "gatekit.cli", "serve", "--env", "local", "--port", str(port),
            "--set", "gateway.demo_provider.enabled=false"]  # fmt: skip
    if routing:
        args += ["--set", "gateway.routing.ml.enabled=true"]
    env = {**os.environ, "GATEKIT_MASTER_KEY": "sk-bench-key", "GATEKIT_RUNTIME_DIR": str(tmp / f"rt-{routing}")}
    start = time.monotonic()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - start < 300:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/readiness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        ready = time.monotonic() - start
        time.sleep(3)
        return {"cold_start_s": ready, "idle_rss_mb": rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--gateway-runs", type=int, default=1, help="Cold starts per mode (0 to skip).")
    parser.add_argument("--out", type=Path, default=None, help="Write the results as JSON here.")
    parser.add_argument("--cpu", type=int, default=0, help="The one core to pin to.")
    parser.add_argument("--only-long", action="store_true", help="Only the long-input (up to 1 MB) decisions + stall.")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    from bench.routing_long_inputs import run as long_inputs

    if args.only_long:
        machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}"
        text = json.dumps({"machine": machine, "long_inputs": long_inputs(min(args.iterations, 500))}, indent=2)
        print(text)
        if args.out:
            args.out.write_text(text)
        return
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="gatekit-bench-"))
    results: dict[str, object] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}",
        "decisions": decision_latency(args.iterations),
        "long_inputs": long_inputs(min(args.iterations, 500)),
        "engine_cold_load_s": engine_cold_load_s(),
        "numpy_minilm_transformer_256_tokens_ms": transformer_latency(),
        "llmrouter_knn_route_single": llmrouter_route_single(tmp),
    }
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    runs = []
    for i in range(args.gateway_runs):
        for routing in (False, True):
            runs.append({"routing": routing, "run": i, **gateway_start(routing, tmp)})
    results["gateway"] = runs
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
