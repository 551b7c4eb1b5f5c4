"""Evaluation arithmetic: APGR, cost saving and quality retention on small hand-checked cases."""

from __future__ import annotations

import pytest

from gatekit.routing.dataset import LabelledPrompt
from gatekit.routing.evaluate import Evaluator


@pytest.fixture()
def evaluator(spec):
    tiers = ["economy"] * 3 + ["premium"]  # 25 % complex
    prompts = [LabelledPrompt(str(i), "p", t, "held_out", 100) for i, t in enumerate(tiers)]
    return Evaluator(spec, prompts, [100] * 4)


def test_apgr_oracle_constant_and_inverted(evaluator):
    oracle = evaluator.row("oracle", [0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9])
    assert oracle.apgr == pytest.approx(1 - 0.25 / 2)  # PGR reaches 1 at 25 % strong calls
    assert evaluator.row("flat", [0] * 4, [0.5] * 4).apgr == pytest.approx(0.5)  # ties: no information
    assert evaluator.row("inverted", [1, 1, 1, 0], [0.9, 0.8, 0.7, 0.1]).apgr == pytest.approx(0.125)


def test_cost_and_quality(evaluator, spec):
    oracle = evaluator.row("oracle", [0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9])
    econ, prem = spec.tier("economy"), spec.tier("premium")
    per_call = (econ.input_cost_per_million + econ.output_cost_per_million) / (
        prem.input_cost_per_million + prem.output_cost_per_million
    )
    assert oracle.saving_per_call == pytest.approx(0.75 * (1 - per_call))
    assert oracle.quality_retention == 1.0 and oracle.accuracy == 1.0
    cheap = evaluator.row("economy", [0] * 4)
    assert cheap.quality_retention == pytest.approx(0.75)
    assert cheap.simple_to_cheapest == 1.0 and cheap.complex_to_strongest == 0.0
