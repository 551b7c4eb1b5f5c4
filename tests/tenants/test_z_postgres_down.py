"""PostgreSQL goes away under two serving database-on replicas, then returns (the last test of this package: its
file name sorts after test_tenancy.py; same package-scoped servers, keys applied there). Replica 0 is configured
`gateway.degraded.postgres_down: fail-closed`, replica 1 `serve` (LiteLLM `allow_requests_on_db_unavailable`).

What clients see, as tested:
* readiness: 503 `database-unavailable` on both (out of rotation) until the database is back, then 200;
* the master key keeps working on both (it needs no database);
* a virtual key the replica has not cached: fail-closed -> 503 (an outage, never a 401 that would call a valid key
  invalid); serve -> 200 when LiteLLM issues its restricted fallback identity (the key lookup timed out or failed in
  transport: budgets and per-key limits are not enforced then, and any bearer token is served alike), else 503;
* after PostgreSQL returns: readiness 200 and the key served by both."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.tenants.cluster import Cluster
from tests.tenants.conftest import SVC_KEY_ENV, Tenancy
from tests.tenants.test_tenancy import chat

pytestmark = pytest.mark.timeout(900)
OUTAGE_TIMEOUT = 180


def _readiness(url: str) -> httpx.Response:
    return httpx.get(f"{url}/health/readiness", timeout=30)


def _until(what: str, check: object, timeout: float = OUTAGE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(1)


def test_postgres_stopped_then_back(tenancy: Tenancy) -> None:
    cluster: Cluster = tenancy.cluster
    closed, serving = (r.url for r in cluster.replicas)
    svc = tenancy.environ[SVC_KEY_ENV]
    server = cluster.pg.extra["server"]
    applied = tenancy.gatekit("apply")  # a no-op after test_tenancy.py; makes this test runnable alone
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert all(_readiness(r.url).status_code == 200 for r in cluster.replicas)
    server.stop()
    try:
        for url in (closed, serving):
            _until(f"{url} readiness 503", lambda u=url: _readiness(u).status_code == 503)
            body = _readiness(url).json()
            assert body["status"] == "database-unavailable", body
            master = chat(url, cluster.master_key)
            assert master.status_code == 200, master.text

        refused = chat(closed, svc)
        assert refused.status_code == 503, refused.text  # fail-closed: an outage, not "invalid key"
        assert "database" in refused.text.lower()
        # `serve`: LiteLLM issues its fallback identity when the key lookup times out or fails in transport, and
        # answers 503 when the engine reports the database unreachable at once — never a 401 for a valid key.
        seen = {chat(serving, svc).status_code for _ in range(3)}
        assert seen <= {200, 503}, seen
        stranger = chat(closed, "sk-" + "0" * 32)  # fail-closed cannot tell a stranger either: 503, not served
        assert stranger.status_code == 503, stranger.text
    finally:
        server.start()
        server.wait_ready()
    for url in (closed, serving):
        _until(f"{url} readiness back to 200", lambda u=url: _readiness(u).status_code == 200)
        again = chat(url, svc)
        assert again.status_code == 200, again.text
    assert chat(serving, "sk-" + "0" * 32).status_code == 401  # with its database, a stranger is refused again
