"""The object every replica hot-reloads is the resolved environment the typed model produces (what
`gatekit ops push-config` uploads too), and the LiteLLM config beside it is exactly what that environment renders."""

from __future__ import annotations

import json

import yaml

from gatekit.config.environment import Environment
from gatekit.render.litellm import render_litellm_config
from gatekit.runtime.sync import parse_document
from tests.cdk.conftest import Synthesized


def _deployed(each_env: Synthesized, name: str) -> str:
    found = sorted(each_env.outdir.glob(f"asset.*/gateway/{name}"))
    assert len(found) == 1, found
    return found[0].read_text()


def test_config_bucket_receives_the_resolved_environment(each_env: Synthesized) -> None:
    document = _deployed(each_env, "environment.json")
    assert Environment.model_validate(json.loads(document)) == each_env.env
    assert "os.environ/" not in document and '"secret"' in document  # secrets stay references


def test_replicas_accept_the_deployed_document(each_env: Synthesized, monkeypatch) -> None:
    from gatekit.render.env import render_environment

    for var in render_environment(each_env.env).secrets:
        monkeypatch.setenv(var, "present-in-the-task")
    env = parse_document(_deployed(each_env, "environment.json").encode(), each_env.env.name)
    assert env == each_env.env


def test_rendered_litellm_config_is_deployed_for_review(each_env: Synthesized) -> None:
    text = _deployed(each_env, "litellm.yaml")
    assert yaml.safe_load(text) == render_litellm_config(each_env.env)
    assert "os.environ/" in text
