"""Tenancy as code and its enforcement on real servers: `gatekit tenants plan|apply` against two database-on LiteLLM
replicas (real PostgreSQL 16, TLS+AUTH Redis shared by both): teams, users and keys created; a key over budget
refused; rpm=2 enforced across the two replicas; a second apply changes nothing; drift made by hand planned and
reverted; key values never printed. Tests run in file order (the budget test on LiteLLM's first spend cycles)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx
import pytest

from gatekit.ops.tenants_state import hashed
from tests.harness.db_gateway import DB
from tests.tenants.conftest import Tenancy, tenancy_doc

SPEND_TIMEOUT = 120
pytestmark = pytest.mark.timeout(1800)  # the first test also pays for the replicas' start


def chat(url: str, key: str, model: str = "economy") -> httpx.Response:
    # A fresh prompt each call: the gateway caches answers (Redis), and a cached answer costs nothing.
    body = {"model": model, "messages": [{"role": "user", "content": "ping " + secrets.token_hex(8)}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120)


def _no_key_values(t: Tenancy, *outputs: str) -> None:
    for value in (t.key(t.rpm_key_env), t.key(t.budget_key_env)):
        for out in outputs:
            assert value not in out, "a key value was printed"


def test_apply_creates_teams_users_keys_and_converges(tenancy: Tenancy) -> None:
    t = tenancy
    first = t.gatekit("plan", "--detailed-exitcode")
    assert first.returncode == 2, first.stdout + first.stderr
    assert "+ team research: create" in first.stdout and "+ key ci-bot: create" in first.stdout
    assert "Plan: 6 to create, 0 to update, 0 to rotate, 0 to delete, 0 unchanged." in first.stdout

    applied = t.gatekit("apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Applied 6 change(s)." in applied.stdout
    _no_key_values(t, first.stdout, first.stderr, applied.stdout, applied.stderr)

    pg = t.cluster.pg
    teams = pg.sql('SELECT team_id, max_budget, rpm_limit, models FROM "LiteLLM_TeamTable" ORDER BY team_id', db=DB)
    assert teams == [("ops", 5.0, None, ["economy"]), ("research", 50.0, 100, ["economy", "premium"])]
    users = pg.sql('SELECT user_email, teams FROM "LiteLLM_UserTable" WHERE user_id = %s', db=DB, params=("alice",))
    assert users == [("alice@example.com", ["research"])]
    keys = pg.sql(
        'SELECT key_alias, team_id, user_id, rpm_limit, max_budget, models FROM "LiteLLM_VerificationToken" '
        "WHERE metadata->>'gatekit_managed' = 'true' ORDER BY key_alias",
        db=DB,
    )
    # Unset key limits are the gateway's defaults (gateway.limits.default_key in config/base.yaml)
    assert keys == [
        ("ci-bot", "research", "alice", 2, 100.0, ["economy"]),
        ("svc", "research", None, 600, 100.0, []),
        ("tiny-budget", "research", None, 600, 1e-06, []),
    ]

    again = t.gatekit("plan", "--detailed-exitcode", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["counts"] == {"create": 0, "update": 0, "rotate": 0, "delete": 0, "unchanged": 6}
    second = t.gatekit("apply")
    assert second.returncode == 0 and second.stdout.startswith("No changes"), second.stdout + second.stderr


def test_key_over_budget_is_refused(tenancy: Tenancy) -> None:
    t = tenancy
    url = t.cluster.replicas[0].url
    first = chat(url, t.key(t.budget_key_env))
    assert first.status_code == 200, first.text  # under budget before the call; its cost exceeds the budget
    # LiteLLM adds a call's cost to the key after the response: poll until the next call is refused.
    deadline = time.monotonic() + SPEND_TIMEOUT
    refused = chat(url, t.key(t.budget_key_env))
    while refused.status_code == 200 and time.monotonic() < deadline:
        time.sleep(2)
        refused = chat(url, t.key(t.budget_key_env))
    assert 400 <= refused.status_code < 500, refused.text
    assert "budget has been exceeded" in refused.text.lower()


def test_rpm_limit_is_shared_by_the_replicas(tenancy: Tenancy) -> None:
    """rpm=2: two calls on replica 0, the third on replica 1 is refused (the count lives in the shared Redis)."""
    t = tenancy
    key = t.key(t.rpm_key_env)
    a, b = (r.url for r in t.cluster.replicas)
    for attempt in range(3):  # a minute boundary between the calls resets LiteLLM's window: then try once more
        answers = [chat(a, key), chat(a, key), chat(b, key)]
        if [r.status_code for r in answers] == [200, 200, 429]:
            break
        time.sleep(61 if attempt == 0 else 1)
    codes = [r.status_code for r in answers]
    assert codes == [200, 200, 429], [(r.status_code, r.text[:200]) for r in answers]
    assert "rate limit" in answers[2].text.lower() or "limit" in answers[2].text.lower(), answers[2].text
    counter = f"{{api_key:{hashed(key)}}}:requests"  # LiteLLM's per-key request count, in the shared Redis
    assert t.cluster.redis.client().exists(counter), "no rate-limit counter for the key in the shared Redis"


def _hand_edit(t: Tenancy, path: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{t.cluster.replicas[0].url}{path}", json=body, headers=t.cluster.headers(), timeout=60)
    assert r.status_code == 200, r.text


def test_plan_shows_drift_made_by_hand_and_apply_reverts_it(tenancy: Tenancy) -> None:
    t = tenancy
    token = t.cluster.pg.sql(
        'SELECT token FROM "LiteLLM_VerificationToken" WHERE key_alias = %s', db=DB, params=("ci-bot",)
    )[0][0]
    _hand_edit(t, "/key/update", {"key": token, "rpm_limit": 50})
    _hand_edit(t, "/team/update", {"team_id": "research", "max_budget": 500})
    plan = t.gatekit("plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "~ key ci-bot: update (rpm_limit: 50 -> 2)" in plan.stdout
    assert "~ team research: update (max_budget: 500.0 -> 50.0)" in plan.stdout
    assert "Plan: 0 to create, 2 to update, 0 to rotate, 0 to delete, 4 unchanged." in plan.stdout
    applied = t.gatekit("apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert t.gatekit("plan", "--detailed-exitcode").returncode == 0


def test_removed_team_is_deleted_and_rotated_key_replaces_the_old(tenancy: Tenancy) -> None:
    t = tenancy
    old = t.key(t.rpm_key_env)
    t.environ[t.rpm_key_env] = "sk-" + secrets.token_urlsafe(24)  # the secret store now holds a new value
    t.write(tenancy_doc(t.rpm_key_env, t.budget_key_env, with_ops=False))
    plan = t.gatekit("plan")
    assert "± key ci-bot: rotate" in plan.stdout and "- team ops: delete" in plan.stdout, plan.stdout + plan.stderr
    applied = t.gatekit("apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert old not in plan.stdout + applied.stdout + applied.stderr and t.key(t.rpm_key_env) not in applied.stdout
    assert t.cluster.pg.sql('SELECT count(*) FROM "LiteLLM_TeamTable" WHERE team_id = %s', db=DB, params=("ops",)) == [
        (0,)
    ]
    url = t.cluster.replicas[1].url
    assert chat(url, old).status_code == 401
    assert chat(url, t.key(t.rpm_key_env)).status_code == 200
    assert t.gatekit("plan", "--detailed-exitcode").returncode == 0
