"""The instance LiteLLM loads from `litellm_settings.callbacks: [gatekit.routing.hook.ml_router]`.

Importing this module loads the router described in the LiteLLM config file the proxy was started with
(`CONFIG_FILE_PATH`); with `on_load_failure: fail-startup` a strategy that cannot load raises here and the proxy
does not start."""

from __future__ import annotations

import os

from gatekit.routing.litellm_hook import MLRoutingHook, spec_from_config_file

ml_router = MLRoutingHook.from_spec(spec_from_config_file(os.environ.get("CONFIG_FILE_PATH")))
