"""Routing evaluation: decision accuracy, cost saving versus always-premium, quality retention and APGR.

Definitions (docs/routing.md explains them with the numbers):
  quality      a tier handles a prompt when it is at least as strong as the prompt's label (the cheapest tier that
               handles it); quality of a decision = 1 if handled, else 0. Retention = router quality / always-premium.
  cost         per call: every call priced with the dataset's mean input and output token counts (RouteLLM's
               convention: savings come from how many calls go to which tier). Token-weighted: each prompt's own
               input tokens and its expected output tokens, so long complex answers weigh more.
  APGR         RouteLLM: PGR(c) = (q(router at c) - q(weak)) / (q(strong) - q(weak)), where c is the share of calls
               sent to the strong tier; APGR is the area under PGR(c) for c in [0, 1], swept through the threshold.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gatekit.routing.dataset import LabelledPrompt
from gatekit.routing.spec import RoutingSpec


@dataclass(frozen=True)
class Row:
    name: str
    accuracy: float
    simple_to_cheapest: float
    complex_to_strongest: float
    strong_share: float
    saving_per_call: float
    saving_tokens: float
    quality_retention: float
    apgr: float | None


def _quality(chosen: np.ndarray, needed: np.ndarray) -> np.ndarray:
    return (chosen >= needed).astype(float)


def _apgr(scores: np.ndarray, needed: np.ndarray, top: int) -> float:
    """Sweep the threshold over the scores: strong share from 0 to 1, PGR at each, trapezoid area."""
    q_weak = _quality(np.zeros_like(needed), needed).mean()
    q_strong = _quality(np.full_like(needed, top), needed).mean()
    gap = q_strong - q_weak
    if gap <= 0:
        return 1.0
    n = len(scores)
    fixes = (needed > 0).astype(float)  # sending a prompt to the strong tier fixes it iff it needed more
    # Prompts with equal scores are sent up together, in no particular order: taking the curve's points at the
    # boundaries of tie groups gives the expected PGR (linear inside a group), so constant scores score 0.5.
    levels, group = np.unique(-scores, return_inverse=True)
    counts = np.bincount(group, minlength=len(levels))
    gained = np.bincount(group, weights=fixes, minlength=len(levels))
    shares = np.concatenate([[0.0], np.cumsum(counts) / n])
    pgr = np.concatenate([[0.0], np.cumsum(gained) / n / gap])
    return float(np.trapezoid(pgr, shares))


class Evaluator:
    def __init__(self, spec: RoutingSpec, prompts: Sequence[LabelledPrompt], input_tokens: Sequence[int]) -> None:
        names = spec.tier_names
        self.spec = spec
        self.needed = np.array([names.index(p.tier) for p in prompts])
        self.top = len(names) - 1
        self.in_tokens = np.asarray(input_tokens, dtype=float)
        self.out_tokens = np.array([p.expected_output_tokens for p in prompts], dtype=float)
        self.in_price = np.array([t.input_cost_per_million for t in spec.tiers]) / 1e6
        self.out_price = np.array([t.output_cost_per_million for t in spec.tiers]) / 1e6

    def _costs(self, chosen: np.ndarray) -> tuple[float, float]:
        per_call = self.in_price * self.in_tokens.mean() + self.out_price * self.out_tokens.mean()
        tokens = self.in_price[chosen] * self.in_tokens + self.out_price[chosen] * self.out_tokens
        premium_tokens = self.in_price[self.top] * self.in_tokens + self.out_price[self.top] * self.out_tokens
        return float(1 - per_call[chosen].sum() / (per_call[self.top] * len(chosen))), float(
            1 - tokens.sum() / premium_tokens.sum()
        )

    def row(self, name: str, chosen: Sequence[int], scores: Sequence[float] | None = None) -> Row:
        c = np.asarray(chosen)
        q = _quality(c, self.needed)
        q_premium = _quality(np.full_like(self.needed, self.top), self.needed).mean()
        simple, complex_ = self.needed == 0, self.needed == self.top
        per_call, tokens = self._costs(c)
        return Row(
            name=name,
            accuracy=float((c == self.needed).mean()),
            simple_to_cheapest=float((c[simple] == 0).mean()) if simple.any() else float("nan"),
            complex_to_strongest=float((c[complex_] == self.top).mean()) if complex_.any() else float("nan"),
            strong_share=float((c == self.top).mean()),
            saving_per_call=per_call,
            saving_tokens=tokens,
            quality_retention=float(q.mean() / q_premium),
            apgr=_apgr(np.asarray(scores, dtype=float), self.needed, self.top) if scores is not None else None,
        )

    def baselines(self, router_strong_share: float, seed: int = 7) -> list[Row]:
        n = len(self.needed)
        rng = random.Random(seed)
        rand = [self.top if rng.random() < router_strong_share else 0 for _ in range(n)]
        rand_scores = [rng.random() for _ in range(n)]
        return [
            self.row("always-economy", [0] * n),
            self.row("always-premium", [self.top] * n),
            self.row(f"random ({router_strong_share:.0%} premium)", rand, rand_scores),
        ]


HEADERS = ("router", "accuracy", "simple→economy", "complex→premium", "premium share", "saving/call",
           "saving/tokens", "quality retention", "APGR")  # fmt: skip


def _pct(v: float | None) -> str:
    return "—" if v is None or v != v else f"{round(v * 100, 1) + 0.0:.1f}%"


def markdown_table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        cells = [r.name, _pct(r.accuracy), _pct(r.simple_to_cheapest), _pct(r.complex_to_strongest),
                 _pct(r.strong_share), _pct(r.saving_per_call), _pct(r.saving_tokens), _pct(r.quality_retention),
                 "—" if r.apgr is None else f"{r.apgr:.3f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
