"""One gatekit gateway composed as with a database (no master-key guard), the default exposure (no admin network
except the test's simulated one), small body limits and two in-flight slots. Shared by the whole session."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekit.rehearse.launch import launched
from tests.conftest import REPO, START_TIMEOUT, free_port

MAX_BODY = 1024 * 1024
BODY_DEADLINE = 3
MAX_IN_FLIGHT = 2
ADMIN_NET = "10.99.0.0/24"  # a client there, seen through the trusted proxy (loopback here), is an admin


@dataclass
class Gateway:
    url: str
    key: str
    port: int
    log: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="session")
def db_on_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("db-on-gateway")
    port, demo_port = free_port(), free_port()
    key = "sk-test-" + secrets.token_hex(12)
    overrides = [
        f"gateway.demo_provider.port={demo_port}",
        "gateway.exposure.admin_cidrs=[" + ADMIN_NET + "]",
        "gateway.exposure.trusted_proxy_ranges=[127.0.0.0/8]",
        f"gateway.exposure.max_body_bytes={MAX_BODY}",
        f"gateway.exposure.body_read_timeout_seconds={BODY_DEADLINE}",
        f"gateway.backpressure.max_in_flight={MAX_IN_FLIGHT}",
        "gateway.caching.enabled=false",
    ]
    cmd = [sys.executable, "-m", "tests.security.db_on_gateway", "--port", str(port)]
    cmd += [a for o in overrides for a in ("--set", o)]
    env = {**os.environ, "GATEKIT_MASTER_KEY": key, "GATEKIT_RUNTIME_DIR": str(workdir / "runtime")}
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    log = workdir / "gateway.log"
    url = f"http://127.0.0.1:{port}"
    # Liveness, not readiness: with `database.enabled` and no database behind LiteLLM, readiness is 503 by design
    # (gatekit.runtime.readiness) — exactly what this composition stands in for.
    probe = f"{url}/health/liveliness"
    with launched(cmd, probe, what="gateway", timeout=START_TIMEOUT, log=log, env=env, cwd=REPO, stop_timeout=60):
        yield Gateway(url, key, port, log)


@pytest.fixture(scope="session")
def rds_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA certificate file standing for an operator's RDS bundle (`database.ca_bundle`)."""
    from gatekit.rehearse.tls import make_certificates

    return make_certificates(tmp_path_factory.mktemp("rds-bundle")).ca_file
