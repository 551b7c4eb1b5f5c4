"""Outcome data: for each prompt, how good the cheap (weak) and the premium (strong) answer was.

Two sources, one shape (`Outcome`):
  * the shipped benchmark files derived from RouteLLM's published evaluations (data/routing/routellm/, Apache-2.0):
    MMLU and GSM8K (1 = correct, 0 = wrong) and MT-Bench (GPT-4 judge score 1-10, both turns averaged; the decision is
    made on the first turn, the opening of the conversation);
  * the deployment's own outcome records written by `POST /gatekit/feedback` and exploration (gatekit.routing.feedback),
    where a prompt may carry only one model's outcome.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

BENCHMARKS = ("mmlu", "gsm8k", "mt_bench")
QUALITY_SCALE = {"mmlu": 1.0, "gsm8k": 1.0, "mt_bench": 10.0}


class OutcomeDataError(RuntimeError):
    pass


@dataclass(frozen=True)
class Outcome:
    id: str
    benchmark: str
    messages: list[dict[str, str]]  # the conversation the router sees
    strong: float | None  # quality of the premium answer, 0..1 (None: not observed)
    weak: float | None  # quality of the cheap answer, 0..1
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def gain(self) -> float:
        """How much better the premium answer was (needs both outcomes)."""
        if self.strong is None or self.weak is None:
            raise OutcomeDataError(f"{self.id}: gain needs both outcomes")
        return self.strong - self.weak


def data_dir() -> Path:
    """data/routing/routellm in a clone (the benchmark runs from a clone; the files are not in the wheel)."""
    here = Path(__file__).resolve().parents[2] / "data" / "routing" / "routellm"
    if not (here / "mmlu.jsonl.gz").is_file():
        raise OutcomeDataError(f"benchmark outcome files not found under {here} (run from a gatekit clone)")
    return here


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise OutcomeDataError(f"{path}: missing")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_benchmark(name: str, root: Path | None = None) -> list[Outcome]:
    if name not in BENCHMARKS:
        raise OutcomeDataError(f"unknown benchmark `{name}`; one of {', '.join(BENCHMARKS)}")
    root = root or data_dir()
    out: list[Outcome] = []
    for r in _rows(root / f"{name}.jsonl.gz"):
        if name == "mt_bench":
            scale = QUALITY_SCALE[name]
            out.append(Outcome(r["id"], name, [{"role": "user", "content": r["turns"][0]}],
                               float(np.mean(cast("list[float]", r["strong"]))) / scale,
                               float(np.mean(cast("list[float]", r["weak"]))) / scale,
                               {"category": r["category"]}))  # fmt: skip
        else:
            out.append(Outcome(r["id"], name, [{"role": "user", "content": r["prompt"]}], float(r["strong"]),
                               float(r["weak"]), {"domain": r.get("domain", name)}))  # fmt: skip
    return out


def load_all(root: Path | None = None) -> dict[str, list[Outcome]]:
    return {name: load_benchmark(name, root) for name in BENCHMARKS}


def arrays(rows: Iterable[Outcome]) -> tuple[np.ndarray, np.ndarray]:
    rows = list(rows)
    return (np.array([r.strong for r in rows], dtype=float), np.array([r.weak for r in rows], dtype=float))
