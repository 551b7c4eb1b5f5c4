"""The object the gateway hot-reloads is exactly the LiteLLM config rendered from the typed model."""

from __future__ import annotations

import yaml

from gatekit.render.litellm import render_litellm_config
from tests.cdk.conftest import Synthesized


def test_config_bucket_receives_the_rendered_litellm_config(each_env: Synthesized) -> None:
    deployed = sorted(each_env.outdir.glob("asset.*/gateway/litellm.yaml"))
    assert len(deployed) == 1
    text = deployed[0].read_text()
    assert yaml.safe_load(text) == render_litellm_config(each_env.env)
    assert "os.environ/" in text  # secrets stay references
