"""Rendering every environment, the generated artifacts that must stay current, and secret hygiene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.config import DrainTimings, environment_names, load_all, load_environment
from gatekit.config.schema import environment_file_schema, reference_markdown
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
ENVS = environment_names(CONFIG)


def test_the_five_environments_exist() -> None:
    assert {"local", "dev", "staging", "prod", "moat"} <= set(ENVS)


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize("target", ["litellm", "env", "json"])
def test_render_every_environment(env_name: str, target: str) -> None:
    result = CliRunner().invoke(
        cli, ["config", "render", "--config-dir", str(CONFIG), "--env", env_name, "--target", target]
    )
    assert result.exit_code == 0, result.output
    if target == "litellm":
        doc = yaml.safe_load(result.output)
        groups = {m["model_name"] for m in doc["model_list"]}
        assert {"economy", "premium"} <= groups
        assert doc["general_settings"]["master_key"].startswith("os.environ/")
    elif target == "json":
        assert json.loads(result.output)["name"] == env_name
    else:
        assert f"GATEKIT_ENV={env_name}" in result.output


def test_tiers_are_model_groups_of_their_deployments() -> None:
    env = load_environment("prod", CONFIG)
    rendered = render_litellm_config(env)
    economy = [m for m in rendered["model_list"] if m["model_name"] == "economy"]
    assert {m["model_info"]["gatekit_deployment"] for m in economy} == {
        m.model_name for m in env.gateway.models if m.tier == "economy"
    }
    ids = [m["model_info"]["id"] for m in rendered["model_list"]]
    assert len(ids) == len(set(ids)), "LiteLLM deployment ids must be unique"


def test_prod_differs_from_dev_only_where_it_must() -> None:
    dev, prod = load_environment("dev", CONFIG), load_environment("prod", CONFIG)
    assert dev.gateway.tiers == prod.gateway.tiers
    assert dev.gateway.models == prod.gateway.models
    assert prod.database.deletion_protection and not dev.database.deletion_protection
    assert prod.compute.replicas.min > dev.compute.replicas.min


@pytest.mark.parametrize("env_name", ENVS)
def test_secrets_only_as_references(env_name: str) -> None:
    env = load_environment(env_name, CONFIG)
    rendered = render_environment(env)
    text = yaml.safe_dump(render_litellm_config(env)) + rendered.dotenv()
    # Every provider key in the LiteLLM config is an os.environ/ reference filled by the secret mechanism.
    for model in render_litellm_config(env)["model_list"]:
        key = model["litellm_params"].get("api_key")
        assert key is None or key == "not-required" or key.startswith("os.environ/")
        if isinstance(key, str) and key.startswith("os.environ/"):
            assert key.removeprefix("os.environ/") in rendered.secrets
    assert env.secrets.master_key.env_var in rendered.secrets
    assert not set(rendered.plain) & set(rendered.secrets)
    assert "sk-" not in text.replace("sk-gatekit", "")


def test_set_overrides_apply_after_merge() -> None:
    env = load_environment("local", CONFIG, ["gateway.port=4555", "gateway.demo_provider.latency_ms=50"])
    assert env.gateway.port == 4555
    assert env.gateway.demo_provider.latency_ms == 50


def test_drain_arithmetic_holds_for_every_environment() -> None:
    for env in load_all(CONFIG).values():
        t = DrainTimings.from_drain(env.gateway.drain)
        d = env.gateway.drain
        assert t.ecs_stop_timeout == d.budget_seconds + d.exit_margin_seconds <= 120 or env.target == "local"
        assert t.alb_deregistration_delay == d.budget_seconds
        assert t.k8s_termination_grace_seconds == d.pre_stop_seconds + d.budget_seconds + d.exit_margin_seconds


def test_schema_json_is_current() -> None:
    on_disk = json.loads((CONFIG / "schema.json").read_text())
    assert on_disk == environment_file_schema(), "run `gatekit config schema` and commit config/schema.json"


def test_config_reference_is_current() -> None:
    assert (REPO / "docs" / "config.md").read_text() == reference_markdown(), "run `gatekit config docs`"


def test_schema_accepts_every_environment_file() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = environment_file_schema()
    for path in [CONFIG / "base.yaml", *sorted((CONFIG / "environments").glob("*.yaml"))]:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"compute": {"replicaz": 1}}, schema)


def test_litellm_param_names_match_installed_litellm() -> None:
    """The snapshot that powers typo detection in litellm_params tracks the pinned LiteLLM."""
    code = "from litellm.types.router import LiteLLM_Params; print('\\n'.join(sorted(LiteLLM_Params.model_fields)))"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    snapshot = (REPO / "gatekit" / "config" / "litellm_params_fields.txt").read_text()
    assert out.split() == snapshot.split(), "regenerate gatekit/config/litellm_params_fields.txt for this LiteLLM"
