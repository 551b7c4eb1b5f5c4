"""The drain budget is one value; every platform timeout is derived from it and the arithmetic always holds."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from gatekit.config import DrainTimings
from gatekit.config.checks import check_environment
from gatekit.config.gateway import Drain
from gatekit.runtime.metrics import RuntimeMetrics
from gatekit.runtime.server import SHUTDOWN_GRACE_SECONDS
from gatekit.runtime.state import RuntimeState
from tests.runtime.conftest import local_env


@given(
    budget=st.integers(min_value=1, max_value=3000),
    pre_stop=st.integers(min_value=0, max_value=60),
    margin=st.integers(min_value=1, max_value=60),
)
def test_platform_timeouts_always_cover_the_drain(budget: int, pre_stop: int, margin: int) -> None:
    t = DrainTimings.from_drain(Drain(budget_seconds=budget, pre_stop_seconds=pre_stop, exit_margin_seconds=margin))
    # The process drains for at most the budget, then needs SHUTDOWN_GRACE_SECONDS to close idle connections.
    process_exit = budget + SHUTDOWN_GRACE_SECONDS
    assert t.budget_seconds == budget
    assert t.ecs_stop_timeout == budget + margin >= process_exit
    assert t.alb_deregistration_delay == budget  # the LB holds in-flight connections for the whole drain
    assert t.alb_deregistration_delay <= t.ecs_stop_timeout
    assert t.k8s_pre_stop_seconds == pre_stop
    assert t.k8s_termination_grace_seconds == pre_stop + budget + margin >= pre_stop + process_exit
    # The exit hooks' bound (the span exporter's final flush) fits inside the platform's timeout too.
    assert process_exit + t.exit_flush_seconds <= t.ecs_stop_timeout
    assert t.exit_flush_seconds == max(margin - 2, 0)
    assert t.platform_total("aws-ecs") == t.ecs_stop_timeout
    assert t.platform_total("k8s") == t.k8s_termination_grace_seconds


def test_a_budget_the_platform_cannot_honour_is_a_config_error() -> None:
    env = local_env().model_copy(update={"target": "aws-ecs"})
    env.gateway.drain.budget_seconds = 116  # 116 + 5 margin > ECS's 120 s stopTimeout cap
    findings = dict(check_environment(env))
    assert "longer than the platform allows" in findings["gateway.drain.budget_seconds"]


def test_the_runtime_drains_for_exactly_the_configured_budget(metrics: RuntimeMetrics) -> None:
    state = RuntimeState(local_env(["gateway.drain.budget_seconds=42"]), metrics)
    before = time.monotonic()
    state.begin_drain()
    assert state.drain_deadline is not None
    assert 41.9 <= state.drain_deadline - before <= 42.1
    assert metrics.registry.get_sample_value("gatekit_draining") == 1
