"""`config validate` says which limits nothing enforces (warning), and fails on them with --fail-on-unenforced."""

from __future__ import annotations

from click.testing import CliRunner

from gatekit.cli import cli as main
from gatekit.config import default_config_dir, load_environment
from gatekit.config.enforcement import unenforced


def test_db_less_key_limits_are_reported_and_db_on_ones_are_not() -> None:
    local = load_environment("local", default_config_dir())
    paths = {p for p, _ in unenforced(local)}
    assert {"gateway.limits.default_key.rpm", "gateway.limits.default_key.max_budget_usd"} <= paths
    assert unenforced(load_environment("prod", default_config_dir())) == []
    prod = load_environment("prod", default_config_dir())
    no_redis = prod.model_copy(update={"cache": prod.cache.model_copy(update={"enabled": False})})
    assert [p for p, _ in unenforced(no_redis)] == ["gateway.limits.default_key"]  # per replica only


def test_config_validate_warns_and_fails_by_flag() -> None:
    runner = CliRunner()
    warned = runner.invoke(main, ["config", "validate", "--env", "local"])
    assert warned.exit_code == 0, warned.output
    assert "not enforced" in warned.output and "default_key.rpm" in warned.output
    failed = runner.invoke(main, ["config", "validate", "--env", "local", "--fail-on-unenforced"])
    assert failed.exit_code == 1
    strict_ok = runner.invoke(main, ["config", "validate", "--env", "prod", "--fail-on-unenforced"])
    assert strict_ok.exit_code == 0, strict_ok.output
