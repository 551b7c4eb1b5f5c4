"""RouteLLM's router metrics, implemented here from their definitions (docs/routing.md states them).

A router gives each prompt a score (higher = more likely to need the premium model). Sending the prompts with the
highest scores to premium, for every premium share c in [0, 1], traces a quality curve Q(c):

  PGR(c)  = (Q(c) - Q_weak) / (Q_strong - Q_weak)     performance gap recovered at premium share c
  APGR    = integral of PGR(c) over c in [0, 1]        (exact trapezoid area of the piecewise-linear curve)
  CPT(x)  = the smallest premium share c with PGR(c) >= x   (call-performance threshold; CPT(50%), CPT(80%))

Prompts with equal scores go up together in no particular order, so the curve is linear across a tie group: that is
its expected value under a random order, and a router with constant scores (or a random one) scores APGR 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    shares: np.ndarray  # premium share at each point, 0 .. 1
    pgr: np.ndarray  # performance gap recovered at each point
    quality: np.ndarray  # mean quality at each point

    @property
    def apgr(self) -> float:
        return float(np.trapezoid(self.pgr, self.shares))

    def cpt(self, target: float) -> float:
        """Smallest premium share where PGR reaches `target` (linear between the curve's points); 1.0 if never."""
        above = np.nonzero(self.pgr >= target - 1e-12)[0]
        if above.size == 0:
            return 1.0
        i = int(above[0])
        if i == 0:
            return 0.0
        x0, x1, y0, y1 = self.shares[i - 1], self.shares[i], self.pgr[i - 1], self.pgr[i]
        return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)

    def pgr_at(self, share: float) -> float:
        return float(np.interp(share, self.shares, self.pgr))


def curve(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray) -> Curve:
    """Quality curve of a router over one benchmark. `strong`/`weak`: each prompt's quality under each model."""
    scores, strong, weak = (np.asarray(a, dtype=float) for a in (scores, strong, weak))
    n = len(scores)
    if n == 0 or not (len(strong) == len(weak) == n):
        raise ValueError("scores, strong and weak must be non-empty and of equal length")
    q_weak, q_strong = weak.mean(), strong.mean()
    gap = q_strong - q_weak
    if gap <= 0:
        raise ValueError("the strong model does not beat the weak one on this benchmark: PGR is undefined")
    levels, group = np.unique(-scores, return_inverse=True)
    counts = np.bincount(group, minlength=len(levels))
    gains = np.bincount(group, weights=strong - weak, minlength=len(levels))
    shares = np.concatenate([[0.0], np.cumsum(counts) / n])
    quality = q_weak + np.concatenate([[0.0], np.cumsum(gains) / n])
    return Curve(shares, (quality - q_weak) / gap, quality)


def oracle_scores(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """The oracle knows each prompt's outcome: premium first where it gains most, last where it loses."""
    return np.asarray(strong, dtype=float) - np.asarray(weak, dtype=float)


def random_scores(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def threshold_for_share(scores: np.ndarray, share: float) -> float:
    """The score threshold that sends `share` of these prompts to premium (score >= threshold -> premium)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be within [0, 1]")
    if share <= 0.0:
        return float(np.nextafter(np.max(scores), np.inf))
    return float(np.quantile(np.asarray(scores, dtype=float), 1.0 - share, method="higher"))
