"""Routing datasets: labelled prompts (the cheapest tier that handles each one) and LLMRouter routing rows.

Two JSON-lines formats are read:
  * labelled prompts  {"id", "prompt", "tier", "split"?, "expected_output_tokens"?}   (data/routing/prompts.jsonl)
  * LLMRouter rows    {"query", "model_name", "performance", ...}, one row per (query, model)
For LLMRouter rows the label is the row with the highest performance (LLMRouter's own rule), ties to the cheaper tier.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekit.routing.spec import TierSpec

COST_PENALTY = 0.05  # LLMRouter `performance` = handled (0/1) - COST_PENALTY * relative cost: cheaper wins ties
DEFAULT_OUTPUT_TOKENS = 256


class DatasetError(ValueError):
    pass


@dataclass(frozen=True)
class LabelledPrompt:
    id: str
    prompt: str
    tier: str
    split: str = "train"
    expected_output_tokens: int = DEFAULT_OUTPUT_TOKENS


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise DatasetError(f"{path}:{n}: not JSON ({exc})") from None
    return rows


def _from_llmrouter_rows(rows: Sequence[dict[str, Any]], tier_order: Sequence[str]) -> list[LabelledPrompt]:
    best: dict[str, tuple[float, int, str]] = {}
    order: list[str] = []
    for row in rows:
        query, model = str(row["query"]), str(row["model_name"])
        rank = tier_order.index(model) if model in tier_order else len(tier_order)
        key = (float(row.get("performance", 0.0)), -rank, model)
        if query not in best:
            order.append(query)
        if query not in best or key[:2] > best[query][:2]:
            best[query] = key
    out: list[LabelledPrompt] = []
    for i, query in enumerate(order):
        performance, _, tier = best[query]
        if performance < 0.5 and tier in tier_order and tier != tier_order[-1]:
            tier = tier_order[tier_order.index(tier) + 1]  # every tier tried failed: it needs a stronger one
        out.append(LabelledPrompt(f"q-{i:05d}", query, tier))
    return out


def load_labelled(path: Path, tier_order: Sequence[str]) -> list[LabelledPrompt]:
    rows = read_jsonl(path)
    if not rows:
        raise DatasetError(f"{path}: no rows")
    if "query" in rows[0] and "model_name" in rows[0]:
        prompts = _from_llmrouter_rows(rows, tier_order)
    else:
        try:
            prompts = [
                LabelledPrompt(
                    str(r.get("id", f"p-{i:05d}")),
                    str(r["prompt"]),
                    str(r["tier"]),
                    str(r.get("split", "train")),
                    int(r.get("expected_output_tokens", DEFAULT_OUTPUT_TOKENS)),
                )
                for i, r in enumerate(rows)
            ]
        except KeyError as exc:
            raise DatasetError(
                f"{path}: rows need `prompt` and `tier` (or LLMRouter `query`/`model_name`): {exc}"
            ) from None
    unknown = sorted({p.tier for p in prompts} - set(tier_order))
    if unknown:
        raise DatasetError(f"{path}: tiers {unknown} are not tiers of this environment ({', '.join(tier_order)})")
    return prompts


def select_split(prompts: Iterable[LabelledPrompt], split: str | None) -> list[LabelledPrompt]:
    return [p for p in prompts if split is None or p.split == split]


def to_llmrouter_rows(prompts: Sequence[LabelledPrompt], tiers: Sequence[TierSpec]) -> list[dict[str, Any]]:
    """One LLMRouter routing row per (prompt, tier), cheapest tier first; `embedding_id` indexes the prompt."""
    names = [t.name for t in tiers]
    top = max(t.input_cost_per_million + t.output_cost_per_million for t in tiers) or 1.0
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(prompts):
        needed = names.index(p.tier)
        for rank, tier in enumerate(tiers):
            relative_cost = (tier.input_cost_per_million + tier.output_cost_per_million) / top
            handled = 1.0 if rank >= needed else 0.0
            rows.append(
                {
                    "query": p.prompt,
                    "model_name": tier.name,
                    "performance": round(handled - COST_PENALTY * relative_cost, 6),
                    "embedding_id": i,
                    "task_name": "gatekit",
                }
            )
    return rows
