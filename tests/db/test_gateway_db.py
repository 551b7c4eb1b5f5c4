"""LiteLLM's database features through `gatekit serve`, against real PostgreSQL 16 (one session-scoped proxy)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest

from gatekit.runtime.migrate import list_migrations, migrate, migrations_dir
from tests.db.conftest import DbGateway
from tests.harness.db_gateway import DB, RUNTIME_ROLE

SPEND_TIMEOUT = 90
pytestmark = pytest.mark.timeout(1800)  # the first test also pays for the session proxy (migrate + LiteLLM start)


def chat(gw: DbGateway, key: str) -> httpx.Response:
    body = {"model": "economy", "messages": [{"role": "user", "content": "ping"}]}
    return httpx.post(f"{gw.url}/v1/chat/completions", json=body, headers=gw.headers(key), timeout=60)


def generate_key(gw: DbGateway, max_budget: float, purpose: str) -> dict[str, Any]:
    r = httpx.post(
        f"{gw.url}/key/generate",
        json={"models": ["economy"], "max_budget": max_budget, "metadata": {"purpose": purpose}},
        headers=gw.headers(),
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def virtual_key(db_gateway: DbGateway) -> dict[str, Any]:
    return generate_key(db_gateway, 10.0, "tests/db")


def test_ready_only_with_the_database_connected(db_gateway: DbGateway) -> None:
    r = httpx.get(f"{db_gateway.url}/health/readiness", timeout=30)
    assert r.status_code == 200 and r.json()["db"] == "connected", r.text


# The budget and spend tests run first, on LiteLLM's first spend-write cycle: on a loaded machine later cycles were
# seen to stall (update_spend "maximum number of running instances reached"; suspected stand-in pool/transaction
# issue, under investigation), so a key's spend then never reached Postgres.
@pytest.fixture(scope="module")
def budget_key(db_gateway: DbGateway) -> dict[str, Any]:
    return generate_key(db_gateway, 0.000001, "tests/db budget")


def test_budget_exhausted_is_refused(db_gateway: DbGateway, budget_key: dict[str, Any]) -> None:
    tiny = budget_key
    first = chat(db_gateway, tiny["key"])
    assert first.status_code == 200, first.text  # under budget before the call; its cost exceeds the budget
    # LiteLLM adds a call's cost to the key after the response: poll until the next call is refused.
    deadline = time.monotonic() + SPEND_TIMEOUT
    refused = chat(db_gateway, tiny["key"])
    while refused.status_code == 200 and time.monotonic() < deadline:
        time.sleep(2)
        httpx.get(f"{db_gateway.url}/key/info", params={"key": tiny["key"]}, headers=db_gateway.headers(), timeout=30)
        refused = chat(db_gateway, tiny["key"])
    db_spend = db_gateway.pg.sql(
        'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = %s', db=DB, params=(tiny["token"],)
    )
    assert 400 <= refused.status_code < 500, f"key spend in the database: {db_spend}; last answer: {refused.text}"
    assert "budget has been exceeded" in refused.text.lower()


def test_spend_row_written_to_postgres(db_gateway: DbGateway, budget_key: dict[str, Any]) -> None:
    """The spend row of the budget test's first call (LiteLLM's first spend-write cycle)."""
    virtual_key = budget_key
    deadline = time.monotonic() + SPEND_TIMEOUT
    rows: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline and not rows:
        rows = db_gateway.pg.sql(
            'SELECT spend, model_group FROM "LiteLLM_SpendLogs" WHERE api_key = %s AND spend > 0',
            db=DB,
            params=(virtual_key["token"],),
        )
        time.sleep(1)
    assert rows, f"no spend row in {SPEND_TIMEOUT}s"
    assert rows[0][1] == "economy"


def test_migrations_recorded_as_prisma_does_and_idempotent(db_gateway: DbGateway) -> None:
    expected = list_migrations(migrations_dir())
    assert len(db_gateway.migrate_result["applied"]) == len(expected)  # type: ignore[arg-type]
    rows = db_gateway.pg.sql(
        'SELECT migration_name, checksum FROM "_prisma_migrations" '
        "WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND applied_steps_count = 1",
        db=DB,
    )
    assert dict(rows) == {m.name: m.checksum for m in expected}
    again = migrate(db_gateway.pg.dsn(DB), views=False)
    assert again.applied == [] and again.already_applied == len(expected)


def test_runtime_role_needs_no_ddl(db_gateway: DbGateway) -> None:
    """The views LiteLLM creates at start exist (created by `gatekit migrate`); the runtime role cannot create any."""
    views = {v for (v,) in db_gateway.pg.sql("SELECT viewname FROM pg_views WHERE schemaname = 'public'", db=DB)}
    assert {"LiteLLM_VerificationTokenView", "MonthlyGlobalSpend", "DailyTagSpend"} <= views
    (can_create,) = db_gateway.pg.sql(f"SELECT has_schema_privilege('{RUNTIME_ROLE}', 'public', 'CREATE')", db=DB)[0]
    assert can_create is False


def test_key_generate_chat_and_key_info(db_gateway: DbGateway, virtual_key: dict[str, Any]) -> None:
    key = virtual_key["key"]
    reply = chat(db_gateway, key)
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"].startswith("[gatekit demo provider]")
    info = httpx.get(f"{db_gateway.url}/key/info", params={"key": key}, headers=db_gateway.headers(), timeout=30)
    assert info.status_code == 200, info.text
    assert info.json()["info"]["max_budget"] == pytest.approx(10.0)
    stored = db_gateway.pg.sql(
        """SELECT metadata->>'purpose' FROM "LiteLLM_VerificationToken" WHERE token = %s""",
        db=DB,
        params=(virtual_key["token"],),
    )
    assert stored == [("tests/db",)]  # Json stored as an object, not a JSON string


def test_team_and_user_created(db_gateway: DbGateway) -> None:
    team = httpx.post(
        f"{db_gateway.url}/team/new", json={"team_alias": "tests-db"}, headers=db_gateway.headers(), timeout=30
    )
    assert team.status_code == 200, team.text
    user = httpx.post(
        f"{db_gateway.url}/user/new",
        json={"user_email": "db-test@example.com", "teams": [team.json()["team_id"]]},
        headers=db_gateway.headers(),
        timeout=30,
    )
    assert user.status_code == 200, user.text
    rows = db_gateway.pg.sql(
        'SELECT team_alias FROM "LiteLLM_TeamTable" WHERE team_id = %s', db=DB, params=(team.json()["team_id"],)
    )
    assert rows == [("tests-db",)]
    users = db_gateway.pg.sql(
        'SELECT user_email FROM "LiteLLM_UserTable" WHERE user_id = %s', db=DB, params=(user.json()["user_id"],)
    )
    assert users == [("db-test@example.com",)]


def test_the_runtime_role_cannot_read_as_another_user(db_gateway: DbGateway) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(db_gateway.pg.dsn(DB, user=RUNTIME_ROLE, password="wrong"))
