"""One rehearsal session per test session: the gateway venv, Redis (TLS + AUTH), moto and the demo provider start
once; every ECS environment is synthesized once (in parallel) and shared by the extraction and the live tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gatekit.config import load_environment

AWS_ECS_ENVIRONMENTS = ("dev", "staging", "prod", "moat")


@pytest.fixture(scope="session")
def rehearsal() -> Iterator[object]:
    if os.geteuid() != 0:
        pytest.fail("the rehearsal switches to the image's non-root uid: run the tests as root (as CI does)")
    from gatekit.rehearse.session import shared_services

    with shared_services() as shared:
        yield shared


@pytest.fixture(scope="session")
def ecs_assemblies(rehearsal: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from gatekit.rehearse.aws_run import synth_for_rehearsal
    from gatekit.rehearse.session import Shared

    assert isinstance(rehearsal, Shared)
    root = tmp_path_factory.mktemp("rehearse-synth")

    def one(name: str) -> tuple[str, Path]:
        env = load_environment(name, rehearsal.config_dir)
        return name, synth_for_rehearsal(rehearsal, env, root / name, [])

    with ThreadPoolExecutor(max_workers=2) as pool:
        out = dict(pool.map(one, AWS_ECS_ENVIRONMENTS))
    rehearsal.assemblies.update(out)
    return out
