"""The LiteLLM config additions for ML routing: the callback that maps the alias to a tier, and the routing spec
the callback reads (under `gatekit_routing`, a key LiteLLM ignores)."""

from __future__ import annotations

from typing import Any

from gatekit.config import Environment
from gatekit.routing.spec import SPEC_KEY, spec_from_env

CALLBACK = "gatekit.routing.hook.ml_router"


def add_ml_routing(env: Environment, config: dict[str, Any]) -> None:
    if not env.gateway.routing.ml.enabled:
        return
    callbacks = config.setdefault("litellm_settings", {}).setdefault("callbacks", [])
    if CALLBACK not in callbacks:
        callbacks.append(CALLBACK)
    config[SPEC_KEY] = spec_from_env(env).to_dict()
