"""The offline rule: which environments must never reach the internet, and every switch that keeps LiteLLM 1.106 (and
the libraries it loads) from doing so. One place, used by the LiteLLM and environment renderers, the image and the moat
bundle.

Each entry names the outbound fetch it stops. LiteLLM 1.106 has no single offline flag, so each feature that
fetches a remote resource at start-up or request time is switched to its packaged copy one by one.
"""

from __future__ import annotations

from typing import Any

from gatekit.config import Environment

# Environment variables (set in the bundle's gatekit.env, the image and the installer's launcher).
OFFLINE_ENV: dict[str, str] = {
    # litellm/__init__.py fetches model_prices_and_context_window.json from GitHub at import time.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # anthropic_beta_headers_manager.py fetches anthropic_beta_headers_config.json from GitHub.
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    # get_blog_posts.py fetches the docs.litellm.ai RSS feed for the admin UI.
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    # public_endpoints.py fetches autorouter_presets.json from GitHub.
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    # policy_endpoints fetches policy_templates.json from GitHub.
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    # huggingface_hub / tokenizers: never reach the Hugging Face hub (tokenizers, telemetry).
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    # Prisma (database mode): engines are baked into the image; never download them at start-up.
    "PRISMA_HIDE_UPDATE_MESSAGE": "1",
    "CHECKPOINT_DISABLE": "1",
    # Telemetry and update checks stay off.
    "LITELLM_TELEMETRY": "False",
    "LITELLM_MODE": "PRODUCTION",
}

# litellm_settings for the rendered LiteLLM config. `disable_hf_tokenizer_download`: token counting for llama-3,
# llama-2, command-r models would otherwise download a tokenizer from the Hugging Face hub; with it LiteLLM counts
# with the shipped tiktoken encoding (approximate counts for those models).
OFFLINE_LITELLM_SETTINGS: dict[str, Any] = {"disable_hf_tokenizer_download": True}

# general_settings for the rendered LiteLLM config. `disable_model_info_refresh`: LiteLLM 1.106's proxy start-up
# schedules Router.arefresh_model_info at once and every 300 s - a GET {api_base}/v1/models on every OpenAI-compatible
# deployment (token-limit discovery), whether or not a request is ever served. Offline, the limits come from the
# config and the gateway contacts a model server only to serve a request (the moat-vm drill saw this as DNS lookups
# of the model servers' names at start-up).
OFFLINE_GENERAL_SETTINGS: dict[str, Any] = {"disable_model_info_refresh": True}

# The variable LiteLLM honours for a tiktoken cache outside its package (litellm_core_utils/default_encoding.py
# overwrites TIKTOKEN_CACHE_DIR with its packaged directory unless this one is set).
TIKTOKEN_DIR_ENV = "CUSTOM_TIKTOKEN_CACHE_DIR"


def is_offline(env: Environment) -> bool:
    """Moat deployments and isolated networks never reach the internet."""
    return env.target == "moat" or env.network.mode == "isolated"


def offline_litellm_config(rendered: dict[str, Any]) -> dict[str, Any]:
    """The rendered LiteLLM config with the offline settings merged into `litellm_settings` and `general_settings`."""
    out = dict(rendered)
    out["litellm_settings"] = {**rendered.get("litellm_settings", {}), **OFFLINE_LITELLM_SETTINGS}
    out["general_settings"] = {**rendered.get("general_settings", {}), **OFFLINE_GENERAL_SETTINGS}
    return out
