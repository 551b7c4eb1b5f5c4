"""Every accepted strategy runs in the gateway; LLMRouter names gatekit does not serve are refused by validation."""

from __future__ import annotations

import typing

import pytest
from pydantic import ValidationError

from gatekit.config.gateway import NOT_SERVED_STRATEGIES, MLRouting, MLStrategy
from gatekit.routing.artifact import ArtifactError
from gatekit.routing.engine import RoutingEngine, RoutingUnavailable
from gatekit.routing.metrics import routing_metrics
from gatekit.routing.registry import ALL_STRATEGIES
from tests.routing.conftest import spec_with

SIMPLE = "hi! what's the capital of Peru?"
COMPLEX = "Prove that the halting problem is undecidable, then explain which step fails for total functions."


def test_accepted_strategies_are_exactly_the_ones_that_run_in_the_gateway():
    assert set(ALL_STRATEGIES) == set(typing.get_args(MLStrategy))
    assert set(ALL_STRATEGIES) == {"knn", "svm", "mlp", "mf", "elo", "smallest_llm", "largest_llm"}
    assert not set(NOT_SERVED_STRATEGIES) & set(ALL_STRATEGIES)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_in_process_strategies_load_and_decide(spec, strategy):
    engine = RoutingEngine(spec_with(spec, strategy=strategy))
    engine.load()
    assert engine.ready
    decision = engine.decide(SIMPLE)
    assert decision.strategy == strategy
    assert decision.tier in spec.tier_names
    assert 0.0 <= decision.score <= 1.0
    if strategy in ("knn", "svm", "mlp", "mf"):
        assert decision.tier == "economy"
        assert engine.decide(COMPLEX).tier == "premium"
    if strategy == "smallest_llm":
        assert {engine.decide(p).tier for p in (SIMPLE, COMPLEX)} == {"economy"}
    if strategy == "largest_llm":
        assert {engine.decide(p).tier for p in (SIMPLE, COMPLEX)} == {"premium"}


@pytest.mark.parametrize("strategy", NOT_SERVED_STRATEGIES)
def test_llmrouter_strategies_not_served_are_refused_by_validation(strategy):
    with pytest.raises(ValidationError) as err:
        MLRouting(strategy=strategy)
    message = str(err.value)
    assert f"`{strategy}` is an LLMRouter strategy that does not run in the gateway" in message
    assert "supported: knn, svm, mlp, mf, elo, smallest_llm, largest_llm" in message


def test_an_unknown_strategy_is_refused_with_the_supported_names():
    with pytest.raises(ValidationError, match="'knn', 'svm', 'mlp', 'mf', 'elo', 'smallest_llm' or 'largest_llm'"):
        MLRouting(strategy="nearest")


def test_missing_artifact_fails_startup(spec, tmp_path):
    engine = RoutingEngine(spec_with(spec, artifact_uri=str(tmp_path / "absent")))
    with pytest.raises(ArtifactError, match="does not exist"):
        engine.load()


def test_not_ready_mode_refuses_requests_and_counts_the_failure(spec, tmp_path):
    metrics = routing_metrics()
    before = metrics.load_failures._value.get()
    engine = RoutingEngine(spec_with(spec, artifact_uri=str(tmp_path / "absent"), on_load_failure="not-ready"))
    engine.load()  # does not raise: readiness goes false instead
    assert not engine.ready
    assert metrics.load_failures._value.get() == before + 1
    assert metrics.ready._value.get() == 0
    assert "does not exist" in engine.status()["last_error"]
    with pytest.raises(RoutingUnavailable, match="not loaded"):
        engine.decide(SIMPLE)


def test_artifact_for_another_strategy_is_rejected(spec, tmp_path):
    from tests.routing.conftest import copy_default

    svm_dir = copy_default("svm", tmp_path / "svm")
    with pytest.raises(ArtifactError, match="holds a `svm` router, config asks for `knn`"):
        RoutingEngine(spec_with(spec, strategy="knn", artifact_uri=str(svm_dir))).load()


def test_unknown_profile_is_an_error_not_a_guess(spec):
    engine = RoutingEngine(spec)
    with pytest.raises(ValueError, match="unknown routing profile"):
        engine.profile_for("cheap")


def test_unsupported_artifact_uri_scheme_is_a_load_error(spec):
    engine = RoutingEngine(spec_with(spec, artifact_uri="gs://bucket/router", on_load_failure="not-ready"))
    engine.load()
    assert not engine.ready
    assert "directory path or s3://bucket/prefix" in engine.status()["last_error"]
