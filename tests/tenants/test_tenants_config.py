"""`tenants:` as config (validation with file:line, the plan's diff logic, key values never shown) and the semantic
cache refused on every target. No servers: the plan is computed from principals built in the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gatekit.config import ConfigError, load_environment
from gatekit.config.tenants import Tenants
from gatekit.ops.errors import OpsError
from gatekit.ops.tenants_plan import make_plan
from gatekit.ops.tenants_state import Principal, desired_state, hashed
from tests.conftest import REPO

DB_ON = "database:\n  enabled: true\n  url: {env: DATABASE_URL}\n"


def report(tmp_path: Path, body: str) -> str:
    root = tmp_path / "config"
    shutil.copytree(REPO / "config", root)
    (root / "environments" / "custom.yaml").write_text(body)
    with pytest.raises(ConfigError) as err:
        load_environment("custom", root)
    return err.value.report()


def test_references_models_and_database_are_checked(tmp_path: Path) -> None:
    body = """extends: local
tenants:
  teams:
    research: {models: [economy, gpt-9]}
  users:
    alice: {teams: [nope]}
  keys:
    bot: {secret: {env: BOT_KEY}, team: research, user: alice}
"""
    text = report(tmp_path, body)
    assert "tenants: teams, users and keys live in LiteLLM's database" in text
    assert "tenants.teams.research.models.1: unknown model `gpt-9`" in text
    assert "tenants.users.alice.teams.0: unknown team `nope`" in text
    assert "tenants.keys.bot.user: user `alice` is not a member of team `research`" in text


def test_a_key_value_in_config_is_refused_with_file_and_line(tmp_path: Path) -> None:
    body = "extends: local\n" + DB_ON + "tenants:\n  keys:\n    bot:\n      secret: sk-abcdefghijklmnopqrstuvwxyz0123\n"
    text = report(tmp_path, body)
    assert "custom.yaml:8" in text and "tenants.keys.bot.secret" in text


def test_plan_diff_rotation_and_deletes_only_managed() -> None:
    tenants = Tenants.model_validate(
        {
            "teams": {"research": {"rpm": 10}},
            "keys": {"bot": {"secret": {"env": "BOT_KEY"}, "team": "research", "rpm": 2}},
        }
    )
    value = "sk-" + "a" * 30
    desired = desired_state(tenants, {"BOT_KEY": value})
    base = {"models": [], "max_budget": None, "budget_duration": None, "tpm_limit": None}
    live = [
        Principal("team", "research", {"team_alias": "research", **base, "rpm_limit": 10}),
        Principal("key", "bot", {"team_id": "research", "user_id": None, **base, "rpm_limit": 50}, token=hashed(value)),
        Principal("team", "old", {"team_alias": "old", **base, "rpm_limit": None}),
        Principal("team", "by-hand", {"team_alias": "by-hand", **base, "rpm_limit": None}, managed=False),
    ]
    plan = make_plan(desired, live)
    lines = "\n".join(plan.lines())
    assert "~ key bot: update (rpm_limit: 50 -> 2)" in lines
    assert "- team old: delete" in lines and "by-hand" not in lines.replace("Not managed", "")
    assert plan.counts() == {"create": 0, "update": 1, "rotate": 0, "delete": 1} and plan.unchanged == 1
    assert value not in lines

    rotated = make_plan(desired_state(tenants, {"BOT_KEY": "sk-" + "b" * 30}), live)
    assert [c.action for c in rotated.changes if c.kind == "key"] == ["rotate"]
    unreadable = make_plan(desired_state(tenants, {}), live)
    assert unreadable.unchecked_secrets == ["bot"]


def test_a_malformed_key_value_is_refused_without_echoing_it() -> None:
    tenants = Tenants.model_validate({"keys": {"bot": {"secret": {"env": "BOT_KEY"}}}})
    with pytest.raises(OpsError) as err:
        desired_state(tenants, {"BOT_KEY": "not-a-virtual-key-value-123"})
    assert "not-a-virtual-key-value-123" not in str(err.value) and "$BOT_KEY" in str(err.value)


@pytest.mark.parametrize("backend", ["redis-semantic", "qdrant-semantic"])
def test_semantic_cache_is_refused_on_every_target(tmp_path: Path, backend: str) -> None:
    text = report(tmp_path, f"extends: local\ngateway:\n  caching:\n    backend: {backend}\n")
    assert f"custom.yaml:4: gateway.caching.backend: `{backend}` needs" in text
    assert "use `redis`" in text


def _load(tmp_path: Path, body: str) -> object:
    root = tmp_path / "config"
    shutil.copytree(REPO / "config", root)
    (root / "environments" / "custom.yaml").write_text(body)
    return load_environment("custom", root)


def test_routing_profiles_of_tenants_reach_the_routing_spec(tmp_path: Path) -> None:
    from gatekit.routing.spec import spec_from_env

    body = (
        "extends: local\n"
        + DB_ON
        + """gateway:
  routing:
    ml: {team_profiles: {ops: balanced}}
tenants:
  teams:
    research: {profile: precision}
    ops: {profile: balanced}
  keys:
    bot: {secret: {env: BOT_KEY}, team: research, profile: eco}
"""
    )
    spec = spec_from_env(_load(tmp_path, body))  # type: ignore[arg-type]
    assert spec.team_profiles == {"research": "precision", "ops": "balanced"}
    assert spec.key_profiles == {"bot": "eco"}
    conflict = body.replace("ops: {profile: balanced}", "ops: {profile: eco}")
    assert "tenants.teams.ops.profile: `eco` disagrees with gateway.routing.ml.team_profiles.ops" in report(
        tmp_path / "again", conflict
    )


def test_tenant_rate_limits_without_shared_redis_are_reported_unenforced(tmp_path: Path) -> None:
    from gatekit.config.enforcement import unenforced

    body = (
        "extends: local\n"
        + DB_ON
        + """compute:
  replicas: {min: 1, desired: 2, max: 3}
tenants:
  keys:
    bot: {secret: {env: BOT_KEY}, rpm: 2}
"""
    )
    warnings = dict(unenforced(_load(tmp_path, body)))  # type: ignore[arg-type]
    assert "up to 3x its limit" in warnings["tenants"]
