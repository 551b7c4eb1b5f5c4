"""The LiteLLM surface as config: typed blocks, the open `gateway.litellm` overrides checked against the installed
LiteLLM, file:line errors with suggestions, inline secrets refused, and one renderer for every target."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gatekit.config import ConfigError, environment_names, load_environment
from gatekit.config.litellm_fields import SECTIONS, section_fields
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config
from gatekit.render.litellm_surface import NEVER_COOL_DOWN
from tests.conftest import REPO

CONFIG = REPO / "config"


def env_dir(tmp_path: Path, body: str, name: str = "custom") -> Path:
    """A copy of config/ with one more environment file."""
    root = tmp_path / "config"
    shutil.copytree(CONFIG, root)
    (root / "environments" / f"{name}.yaml").write_text(body)
    return root


def problems(tmp_path: Path, body: str) -> str:
    root = env_dir(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_environment("custom", root)
    return err.value.report()


def test_unknown_router_setting_fails_with_file_line_and_suggestion(tmp_path: Path) -> None:
    body = "extends: local\ngateway:\n  litellm:\n    router_settings:\n      enable_pre_call_check: true\n"
    report = problems(tmp_path, body)
    assert "config/environments/custom.yaml:5: gateway.litellm.router_settings.enable_pre_call_check" in report
    assert "did you mean `enable_pre_call_checks`?" in report


@pytest.mark.parametrize("section", ["litellm_settings", "general_settings"])
def test_unknown_names_fail_in_every_section(tmp_path: Path, section: str) -> None:
    report = problems(tmp_path, f"extends: local\ngateway:\n  litellm:\n    {section}:\n      no_such_setting_xyz: 1\n")
    assert f"custom.yaml:5: gateway.litellm.{section}.no_such_setting_xyz: unknown key" in report


def test_overrides_render_for_the_proxy(tmp_path: Path) -> None:
    body = """extends: local
gateway:
  litellm:
    litellm_settings: {turn_off_message_logging: true, redact_user_api_key_info: true}
    router_settings: {enable_pre_call_checks: true}
    general_settings: {background_health_checks: false}
"""
    config = render_litellm_config(load_environment("custom", env_dir(tmp_path, body)))
    assert config["litellm_settings"]["turn_off_message_logging"] is True
    assert config["litellm_settings"]["redact_user_api_key_info"] is True
    assert config["router_settings"]["enable_pre_call_checks"] is True
    assert config["general_settings"]["background_health_checks"] is False


def test_inline_secret_in_an_override_is_refused_without_echoing_it(tmp_path: Path) -> None:
    body = """extends: local
gateway:
  litellm:
    litellm_settings:
      s3_callback_params: {s3_bucket_name: logs, s3_aws_secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY}
"""
    report = problems(tmp_path, body)
    assert "custom.yaml:5" in report and "s3_aws_secret_access_key: inline secret value" in report
    assert "wJalrXUtnFEMI" not in report


def test_an_override_may_not_fight_a_typed_field(tmp_path: Path) -> None:
    report = problems(tmp_path, "extends: local\ngateway:\n  litellm:\n    router_settings: {num_retries: 5}\n")
    assert "`router_settings.num_retries` is rendered by gatekit; set `gateway.routing.num_retries` instead" in report


def test_typed_blocks_render(tmp_path: Path) -> None:
    body = """extends: local
gateway:
  resilience:
    retry_policy: {RateLimitError: 4, TimeoutError: 1}
    retry_after_seconds: 0.5
    allowed_fails_policy: {InternalServerError: 5}
    context_window_fallbacks: {economy: [premium]}
    content_policy_fallbacks: {premium: [economy]}
  callbacks:
    otel: true
    langfuse: {host: "https://langfuse.example.com", public_key: {secret: lf-public}, secret_key: {secret: lf-secret}}
    s3_audit: {bucket: audit-logs, region: eu-west-1}
"""
    env = load_environment("custom", env_dir(tmp_path, body))
    config = render_litellm_config(env)
    router = config["router_settings"]
    assert router["retry_policy"] == {"RateLimitErrorRetries": 4, "TimeoutErrorRetries": 1}
    assert router["retry_after"] == 0.5
    assert router["allowed_fails_policy"] == {
        "InternalServerErrorAllowedFails": 5,
        "NotFoundErrorAllowedFails": NEVER_COOL_DOWN,
    }
    assert router["context_window_fallbacks"] == [{"economy": ["premium"]}]
    assert router["content_policy_fallbacks"] == [{"premium": ["economy"]}]
    settings = config["litellm_settings"]
    assert {"prometheus", "otel", "langfuse"} <= set(settings["callbacks"])
    assert settings["success_callback"] == ["s3"]
    assert settings["s3_callback_params"]["s3_bucket_name"] == "audit-logs"
    rendered = render_environment(env)
    assert rendered.plain["LANGFUSE_HOST"] == "https://langfuse.example.com"
    assert rendered.secrets["LANGFUSE_SECRET_KEY"].secret == "lf-secret"  # a reference, never a value


def test_client_api_switches_render() -> None:
    local = render_litellm_config(load_environment("local"))
    assert local["litellm_settings"]["use_chat_completions_url_for_anthropic_messages"] is True
    chat = [m for m in local["model_list"] if m["model_info"].get("mode", "chat") == "chat"]
    assert chat and all(m["litellm_params"]["use_chat_completions_api"] is True for m in chat)
    native = render_litellm_config(load_environment("local", overrides=["gateway.client_apis.responses=native"]))
    assert not any("use_chat_completions_api" in m["litellm_params"] for m in native["model_list"])


def test_degraded_and_spend_logs_render_where_there_is_a_database() -> None:
    prod = render_litellm_config(
        load_environment("prod", overrides=["gateway.degraded.postgres_down=serve", "gateway.spend_logs.retention=90d"])
    )
    assert prod["general_settings"]["allow_requests_on_db_unavailable"] is True
    assert prod["general_settings"]["maximum_spend_logs_retention_period"] == "90d"
    closed = render_litellm_config(load_environment("prod"))
    assert closed["general_settings"]["allow_requests_on_db_unavailable"] is False


SURFACE_SETS = [
    "gateway.resilience.retry_policy.RateLimitError=3",
    "gateway.litellm.router_settings.enable_pre_call_checks=true",
    "gateway.litellm.litellm_settings.turn_off_message_logging=true",
]


def test_every_target_renders_the_surface_identically() -> None:
    """One renderer: whatever the target, the surface settings come out the same."""
    seen = {}
    for name in environment_names(CONFIG):
        config = render_litellm_config(load_environment(name, CONFIG, SURFACE_SETS))
        router, settings = config["router_settings"], config["litellm_settings"]
        seen[name] = (
            router["retry_policy"],
            router["allowed_fails_policy"],
            router["enable_pre_call_checks"],
            settings["turn_off_message_logging"],
            settings["use_chat_completions_url_for_anthropic_messages"],
            "prometheus" in settings["callbacks"],
        )
    assert len(seen) >= 7 and len({json.dumps(v, sort_keys=True) for v in seen.values()}) == 1, seen


def test_snapshots_match_the_installed_litellm() -> None:
    """The names behind typo detection track the pinned LiteLLM.
    Regenerate with `python -m gatekit.config.litellm_fields`."""
    code = (
        "import json; from gatekit.config.litellm_fields import installed_fields; print(json.dumps(installed_fields()))"
    )
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    installed = json.loads(out.stdout.strip().splitlines()[-1])
    for section in SECTIONS:
        assert list(section_fields(section)) == installed[section], f"regenerate the {section} snapshot"


def test_404_cooldown_policy_renders_and_can_be_turned_back_on() -> None:
    default = render_litellm_config(load_environment("local"))["router_settings"]
    assert default["allowed_fails_policy"] == {"NotFoundErrorAllowedFails": NEVER_COOL_DOWN}
    legacy_env = load_environment("local", overrides=["gateway.resilience.not_found_cools_down=true"])
    legacy = render_litellm_config(legacy_env)
    assert "allowed_fails_policy" not in legacy["router_settings"]
