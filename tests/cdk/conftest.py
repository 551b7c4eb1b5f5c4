"""Synthesize every AWS environment once per test session; every test then reads those templates.

jsii starts one Node.js process per Python process, so all environments are built in this process, one after the
other, into a session temp directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gatekit.config import Environment, default_config_dir, load_environment
from tests.cdk.estate_variants import EKS_COLLECTOR, ESTATE_VARIANTS

AWS_ENVIRONMENTS = ("dev", "staging", "prod", "moat")
STACK_PARTS = ("network", "secrets", "data", "config", "observability", "gateway", "monitoring")
BOUNDARY_ARN = "arn:aws:iam::123456789012:policy/gatekit-boundary"
# Variants that exercise options the environment files leave off.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "staging-boundary": ("staging", [f"aws.permissions_boundary_arn={BOUNDARY_ARN}", "deployment.prefix=gk-alt"]),
    "eks": ("staging", ["target=aws-eks", "deployment.prefix=gk-eks", EKS_COLLECTOR]),
    **ESTATE_VARIANTS,  # existing VPC, Bedrock endpoint, Graviton (tests/cdk/estate_variants.py, issue 18)
}
ALL_SYNTHS = (*AWS_ENVIRONMENTS, *VARIANTS)


@dataclass
class Synthesized:
    name: str
    env: Environment
    outdir: Path
    templates: dict[str, dict[str, Any]]
    errors: list[str]

    def stack(self, part: str) -> dict[str, Any]:
        return self.templates[f"{self.env.deployment.prefix}-{part}"]

    def resources(self, part: str, type_: str | None = None) -> dict[str, dict[str, Any]]:
        res = self.stack(part)["Resources"]
        return {k: v for k, v in res.items() if type_ is None or v["Type"] == type_}

    def all_resources(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for stack, template in self.templates.items():
            for logical_id, resource in template["Resources"].items():
                yield stack, logical_id, resource


def _synth(name: str, base: str, overrides: list[str], outdir: Path) -> Synthesized:
    from cdk.app_builder import synth_environment

    env = load_environment(base, default_config_dir(), overrides)
    result = synth_environment(env, outdir)
    templates = {stack: json.loads(path.read_text()) for stack, path in result.templates.items()}
    return Synthesized(name=name, env=env, outdir=outdir, templates=templates, errors=result.errors)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    root = tmp_path_factory.mktemp("cdk-synth")
    out: dict[str, Synthesized] = {}
    for name in AWS_ENVIRONMENTS:
        out[name] = _synth(name, name, [], root / name)
    for name, (base, overrides) in VARIANTS.items():
        out[name] = _synth(name, base, overrides, root / name)
    return out


@pytest.fixture(scope="session", params=AWS_ENVIRONMENTS)
def each_env(request: pytest.FixtureRequest, synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized[request.param]


@pytest.fixture(scope="session", params=ALL_SYNTHS)
def every_synth(request: pytest.FixtureRequest, synthesized: dict[str, Synthesized]) -> Synthesized:
    """Every synthesis: the four AWS environments and the variants (permissions boundary, EKS)."""
    return synthesized[request.param]
