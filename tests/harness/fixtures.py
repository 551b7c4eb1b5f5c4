"""Session-scoped real servers for any test package (a pytest plugin).

Use from a conftest.py:  `from tests.harness.fixtures import *  # noqa: F403` (or import the fixtures you need).
Each server starts once per session on ephemeral loopback ports and is stopped at the end (gatekit.rehearse.services).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekit.rehearse.services import (
    Postgres,
    Redis,
    gcs_emulator,
    moto_server,
    postgres_server,
    prisma_engine_path,
    redis_server,
)

__all__ = ["harness_gcs", "harness_moto", "harness_postgres", "harness_redis", "prisma_engine"]


@pytest.fixture(scope="session")
def harness_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """PostgreSQL 16, TLS enforced (CA at .ca_file); superuser credentials on the object."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as pg:
        yield pg


@pytest.fixture(scope="session")
def harness_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    """Redis 7 with TLS and AUTH."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def harness_moto() -> Iterator[str]:
    """A moto server endpoint URL (S3, Secrets Manager, SSM ...)."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def harness_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A GCS emulator endpoint (value for STORAGE_EMULATOR_HOST)."""
    with gcs_emulator(tmp_path_factory.mktemp("gcs")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def prisma_engine() -> Path:
    """The TEST-ONLY Prisma query-engine stand-in (value for PRISMA_QUERY_ENGINE_BINARY)."""
    return prisma_engine_path()
