"""Can a router trained on two of RouteLLM's benchmarks rank the third? The grid behind docs/routing.md's search table.

    .venv/bin/python bench/routing_transfer_search.py [--cache-dir build/routing-cache] [--sample N]

For each benchmark held out: (1) the honest figure — the configuration chosen by leave-one-out over the two training
benchmarks only (gatekit.routing.transfer.nested_select), scored once on the held-out one; (2) for reading only, the
best configuration of the grid *per held-out benchmark* and the configuration with the best worst-case margin over
the length baseline across all three — both are chosen by looking at the scored benchmark, so they are upper bounds
of this family, not results. Features are the serving features (static MiniLM embedding + token-length feature);
groups are MMLU subjects, MT-Bench categories and GSM8K as one group. Features are cached (--cache-dir).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gatekit.routing import bench, transfer  # noqa: E402
from gatekit.routing.bench_metrics import curve  # noqa: E402
from gatekit.routing.encoder import load_encoder  # noqa: E402
from gatekit.routing.features import WindowFeaturizer  # noqa: E402
from gatekit.routing.outcomes import load_all  # noqa: E402
from gatekit.routing.spec import EncoderSettings  # noqa: E402


def sources(sample: int | None, cache_dir: Path | None) -> dict[str, transfer.Source]:
    featurizer = WindowFeaturizer(load_encoder(EncoderSettings()))
    out = {}
    for name, rows in load_all().items():
        rows = bench.sample(rows, sample)
        b = bench.featurize(rows, featurizer, cache_dir)
        groups = np.array([str(r.meta.get("domain", r.meta.get("category", name))) for r in rows])
        out[name] = transfer.Source(b.legacy[:, :-1].astype(float), b.legacy[:, -1].astype(float), b.strong, b.weak,
                                    groups)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "build" / "routing-cache")
    args = parser.parse_args()
    src = sources(args.sample, args.cache_dir)
    configs = transfer.grid()
    length = {n: curve(s.length, s.strong, s.weak).apgr for n, s in src.items()}
    print("| held out | length (tokens) | nested choice | APGR, honest | inner APGR | best of grid on it (leaky) |")
    print("|---|---|---|---|---|---|")
    table = transfer.leave_one_out(src, configs)
    for name in src:
        sel = transfer.nested_select(src, name, configs)
        best = max(table.values(), key=lambda row: row[name])[name]
        c = sel.config
        choice = f"{c.label}, λ={c.lam:g}, {'grouped' if c.grouped else 'pooled'}, length weight {c.alpha:g}"
        print(f"| {bench.LABELS[name]} | {length[name]:.3f} | {choice} | {sel.apgr:.3f} | {sel.inner_apgr:.3f} "
              f"| {best:.3f} |")  # fmt: skip
    margin = {cfg: min(row[n] - length[n] for n in src) for cfg, row in table.items()}
    cfg = max(margin, key=lambda k: margin[k])
    row = ", ".join(f"{bench.LABELS[n]} {table[cfg][n]:.3f}" for n in src)
    print(f"\nbest worst-case margin over length (leaky, chosen on all three): {cfg} -> {row}")


if __name__ == "__main__":
    main()
