"""Shared fixtures: the repository's config and Pulumi project, environments, and one offline plan per stack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from gatekit.clouds.plan import Plan, PlanMocks, PlannedResource, run_plan, set_stack_config
from gatekit.config import Environment, load_environment

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
PROJECT = ROOT / "pulumi"
STACKS = ("gcp", "azure", "k8s")

_PLANS: dict[str, Plan] = {}


def environment(name: str, *overrides: str) -> Environment:
    return load_environment(name, CONFIG, overrides)


def cached_plan(stack: str) -> Plan:
    """Each stack's program runs under mocks once per test session (tests/rehearse shares it too)."""
    if stack not in _PLANS:
        _PLANS[stack] = run_plan(stack, PROJECT)
    return _PLANS[stack]


@pytest.fixture(scope="session")
def plan_for() -> Callable[[str], Plan]:
    """Each stack's program runs under mocks once per session; tests share the recorded resources."""
    return cached_plan


def use_mocks(stack: str) -> PlanMocks:
    """Point the Pulumi runtime at fresh mocks and the stack's config, for a `@pulumi.runtime.test` function."""
    mocks = PlanMocks()
    pulumi.runtime.set_mocks(mocks, project="gatekit", stack=stack, preview=False)
    set_stack_config({"gatekit:environment": stack})
    return mocks


def resources(plan: Plan, typ: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type == typ]


def one(plan: Plan, typ: str) -> dict[str, Any]:
    found = resources(plan, typ)
    assert len(found) == 1, (typ, [r.name for r in found])
    return found[0].inputs


def manifest(plan: Plan, kind_type: str, name_suffix: str = "") -> dict[str, Any]:
    found = [r for r in resources(plan, kind_type) if r.inputs["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, (kind_type, name_suffix, [r.name for r in found])
    return found[0].inputs
