"""Routing fixtures: the routing spec of the local environment, artifact copies, a moto S3 server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from gatekit.config import default_config_dir, load_environment
from gatekit.routing.engine import default_artifact_dir
from gatekit.routing.spec import RoutingSpec, spec_from_env
from tests.conftest import REPO, free_port

DATASET = REPO / "data" / "routing" / "prompts.jsonl"


@pytest.fixture(scope="session")
def spec() -> RoutingSpec:
    env = load_environment(
        "local", default_config_dir(), ["gateway.routing.ml.enabled=true", "gateway.routing.ml.strategy=knn"]
    )
    return spec_from_env(env)


def spec_with(base: RoutingSpec, **changes: Any) -> RoutingSpec:
    return replace(base, **changes)


def copy_default(strategy: str, dest: Path) -> Path:
    src = default_artifact_dir(strategy)
    assert src is not None, f"no shipped default for {strategy}"
    shutil.copytree(src, dest)
    return dest


@pytest.fixture(scope="session")
def s3_client() -> Iterator[Any]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    yield client
    server.stop()
