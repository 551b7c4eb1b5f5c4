"""Derive the compact outcome files in this directory from RouteLLM's published evaluation data.

Source: lm-sys/RouteLLM, `routellm/evals/` (Apache-2.0, LICENSE copied beside this script). Only the data is used:
per-question correctness of gpt-4-1106-preview (strong) and Mixtral-8x7B-Instruct-v0.1 (weak) on MMLU and GSM8K, and
GPT-4 judge scores (1-10) of both on MT-Bench. Run: python data/routing/routellm/derive.py SRC_DIR
(SRC_DIR holds mmlu/responses/*.csv, gsm8k/gsm8k_responses.csv, mt_bench/{question,judgements}.jsonl).

Output (gzip JSON lines, one row per question, `strong`/`weak` are the outcome per model):
  mmlu.jsonl.gz     {"id", "domain", "prompt", "strong": 0|1, "weak": 0|1}
  gsm8k.jsonl.gz    {"id", "prompt", "strong": 0|1, "weak": 0|1}
  mt_bench.jsonl.gz {"id", "category", "turns": [t1, t2], "strong": [s1, s2], "weak": [s1, s2]}  (judge scores)
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

STRONG, WEAK = "gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"
HERE = Path(__file__).resolve().parent


def _flag(value: str) -> int:
    if value not in ("True", "False"):
        raise ValueError(f"unexpected correctness value {value!r}")
    return int(value == "True")


def _write(name: str, rows: list[dict]) -> None:
    with gzip.GzipFile(HERE / name, "wb", mtime=0) as fh:  # mtime=0: same bytes on every run
        fh.write("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode())
    print(f"{name}: {len(rows)} rows")


def main(src: Path) -> None:
    csv.field_size_limit(1 << 24)
    rows: list[dict] = []
    for path in sorted((src / "mmlu" / "responses").glob("mmlu_*.csv")):
        domain = path.stem.removeprefix("mmlu_")
        with path.open(newline="") as fh:
            for n, rec in enumerate(csv.DictReader(fh)):
                rows.append({"id": f"mmlu/{domain}/{n}", "domain": domain, "prompt": rec["prompt"],
                             "strong": _flag(rec[STRONG]), "weak": _flag(rec[WEAK])})  # fmt: skip
    _write("mmlu.jsonl.gz", rows)
    rows = []
    with (src / "gsm8k" / "gsm8k_responses.csv").open(newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh)):
            rows.append({"id": f"gsm8k/{n}", "prompt": rec["prompt"], "strong": _flag(rec[STRONG]),
                         "weak": _flag(rec[WEAK])})  # fmt: skip
    _write("gsm8k.jsonl.gz", rows)
    questions = {}
    for line in (src / "mt_bench" / "question.jsonl").read_text().splitlines():
        q = json.loads(line)
        questions[q["question_id"]] = q
    scores: dict[tuple[int, str, int], float] = {}
    for line in (src / "mt_bench" / "judgements.jsonl").read_text().splitlines():
        j = json.loads(line)
        scores[(j["question_id"], j["model"], j["turn"])] = float(j["score"])
    rows = []
    for qid, q in sorted(questions.items()):
        rows.append({"id": f"mt_bench/{qid}", "category": q["category"], "turns": q["turns"],
                     "strong": [scores[(qid, STRONG, t)] for t in (1, 2)],
                     "weak": [scores[(qid, WEAK, t)] for t in (1, 2)]})  # fmt: skip
    _write("mt_bench.jsonl.gz", rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
