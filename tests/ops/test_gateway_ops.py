"""Operations that go through a live replica: the drill's gateway (real LiteLLM proxy, real Redis), synced from the
drill's moto config bucket. Each test leaves the drill as it found it (the runbook drills run after)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import redis
from click.testing import CliRunner, Result

from gatekit.cli import cli
from gatekit.ops.gateway_api import GatewayApi, spend_report, spend_table, spend_totals
from tests.ops.conftest import Drill

pytestmark = pytest.mark.slow


def run(drill: Drill, *args: str) -> Result:
    env: dict[str, str | None] = {**drill.cli_env(), "AWS_PROFILE": None}
    return CliRunner(env=env).invoke(cli, ["ops", *args], catch_exceptions=False)


def replica_config(drill: Drill) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {drill.master_key}"}
    return httpx.get(f"{drill.url}/gatekit/config", headers=headers, timeout=10).json()


def test_push_config_hot_reloads_the_replica(drill: Drill) -> None:
    result = run(drill, "push-config", "--set", "gateway.routing.num_retries=6", "--timeout", "60")
    assert result.exit_code == 0, result.output
    version = result.output.split("version ", 1)[1].split()[0]
    served = replica_config(drill)
    assert served["version"] == version and served["last_error"] is None
    assert "all 1 replica(s) serve version" in result.output
    back = run(drill, "push-config", "--timeout", "60")
    assert back.exit_code == 0, back.output
    assert replica_config(drill)["version"] != version


def test_status_reports_replica_versions(drill: Drill) -> None:
    result = run(drill, "status", "--replicas", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["replicas"][0]["url"] == drill.url
    assert status["replicas"][0]["version"] == replica_config(drill)["version"]


def test_verify_passes_and_fails_with_a_wrong_key(drill: Drill) -> None:
    assert run(drill, "verify").exit_code == 0
    wrong = run(drill, "verify", "--key", "sk-wrong-key-000000000000")
    assert wrong.exit_code == 1 and "FAIL" in wrong.output


def test_flush_cache_empties_the_shared_redis(drill: Drill, redis_port: int) -> None:
    store = redis.Redis(host="127.0.0.1", port=redis_port)
    store.set("gatekit-drill-cached", "1")
    dry = run(drill, "flush-cache")
    assert dry.exit_code == 0 and "DRY RUN" in dry.output and store.get("gatekit-drill-cached") == b"1"
    result = run(drill, "flush-cache", "--yes")
    assert result.exit_code == 0, result.output
    assert store.get("gatekit-drill-cached") is None


def test_spend_on_a_db_less_gateway(drill: Drill) -> None:
    """The drill's replica runs without LiteLLM's database: a clear message, exit 1, no traceback."""
    result = run(drill, "spend")
    assert result.exit_code == 1, result.output
    assert "no spend data" in result.output or "spend report failed" in result.output
    assert "Traceback" not in result.output


# LiteLLM 1.106 /global/spend/report shapes (spend_management_endpoints.py): per day for team and customer, per key
# for api_key. The database behind it cannot run here (no Prisma engines), so the parsing is checked on these shapes.
TEAM_REPORT = [
    {
        "group_by_day": "2026-11-01T00:00:00+00:00",
        "teams": [
            {
                "team_name": "search",
                "total_spend": 1.5,
                "metadata": [{"model": "gpt-4o", "spend": 1.25}, {"model": "claude-haiku", "spend": 0.25}],
            },
            {"team_name": "Unassigned Team", "total_spend": 0.1, "metadata": [{"model": "gpt-4o-mini", "spend": 0.1}]},
        ],
    },
    {
        "group_by_day": "2026-11-02T00:00:00+00:00",
        "teams": [{"team_name": "search", "total_spend": 2.0, "metadata": [{"model": "gpt-4o", "spend": 2.0}]}],
    },
]
KEY_REPORT = [
    {
        "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
        "total_cost": 0.5,
        "model_details": [{"model": "gpt-4o", "total_cost": 0.5}],
    },
]


def test_spend_report_through_the_gateway_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = TEAM_REPORT if request.url.params["group_by"] == "team" else KEY_REPORT
        return httpx.Response(200, json=body)

    api = GatewayApi("https://gateway.example.com", "sk-admin", transport=httpx.MockTransport(handler))
    totals = spend_totals(spend_report(api, "2026-11-01", "2026-11-30", "team"), "team")
    assert totals == {"search": {"gpt-4o": 3.25, "claude-haiku": 0.25}, "Unassigned Team": {"gpt-4o-mini": 0.1}}
    assert seen[0].url.path == "/global/spend/report" and seen[0].headers["authorization"] == "Bearer sk-admin"
    table = spend_table(totals)
    assert table.splitlines()[1].startswith("search") and "3.6000" in table.splitlines()[-1]
    keys = spend_totals(spend_report(api, "2026-11-01", "2026-11-30", "api_key"), "api_key")
    assert sum(keys[KEY_REPORT[0]["api_key"]].values()) == 0.5
