"""Offline environments render LiteLLM's start-up model-info discovery off; connected ones keep LiteLLM's default.
(The moat-vm drill in test_offline_install.py proves the effect: no DNS lookup of the model servers at start-up.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekit.config import environment_names, load_environment
from gatekit.render.litellm import render_litellm_config
from gatekit.render.offline import OFFLINE_GENERAL_SETTINGS, is_offline, offline_litellm_config

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.mark.parametrize("name", environment_names(CONFIG))
def test_model_info_discovery_is_off_exactly_where_the_network_is(name: str) -> None:
    env = load_environment(name, CONFIG)
    general = render_litellm_config(env)["general_settings"]
    if is_offline(env):
        assert general["disable_model_info_refresh"] is True, name
    else:
        assert "disable_model_info_refresh" not in general, name


def test_the_offline_environments_include_both_moat_profiles() -> None:
    offline = {n for n in environment_names(CONFIG) if is_offline(load_environment(n, CONFIG))}
    assert {"moat", "moat-vm"} <= offline


def test_the_bundle_merge_adds_the_switch_to_any_rendered_config() -> None:
    merged = offline_litellm_config({"general_settings": {"master_key": "os.environ/K"}, "litellm_settings": {}})
    assert merged["general_settings"] == {"master_key": "os.environ/K", **OFFLINE_GENERAL_SETTINGS}
