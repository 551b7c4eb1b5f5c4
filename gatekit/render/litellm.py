"""Render the LiteLLM proxy config (the YAML `litellm --config` reads) from one environment."""

from __future__ import annotations

from typing import Any

from gatekit.config import Environment
from gatekit.config.gateway import ModelDeployment
from gatekit.config.secrets import SecretRef
from gatekit.render.agents import add_agent_gateways
from gatekit.render.litellm_surface import add_litellm_surface
from gatekit.render.offline import OFFLINE_GENERAL_SETTINGS, OFFLINE_LITELLM_SETTINGS, is_offline
from gatekit.routing.render import add_ml_routing

DATABASE_URL_ENV = "DATABASE_URL"


def _params(env: Environment, model: ModelDeployment) -> dict[str, Any]:
    if model.demo:
        demo = env.gateway.demo_provider
        return {
            "model": f"openai/{model.model_name}",
            "api_base": f"http://{demo.host}:{demo.port}/v1",
            "api_key": "not-required",
        }
    assert model.litellm_params is not None
    raw = model.litellm_params.model_dump(exclude_none=True)
    params: dict[str, Any] = {}
    for key, value in raw.items():
        attr = getattr(model.litellm_params, key, None)
        extra = (model.litellm_params.model_extra or {}).get(key)
        ref = attr if isinstance(attr, SecretRef) else extra if isinstance(extra, SecretRef) else None
        params[key] = ref.litellm_ref if ref is not None else value
    return params


def _model_info(env: Environment, model: ModelDeployment, group: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        **model.model_info,
        "id": f"{group}/{model.model_name}",
        "gatekit_deployment": model.model_name,
    }
    if model.tier:
        tier = env.gateway.tiers[model.tier]
        info["gatekit_tier"] = model.tier
        if model.demo:
            # The demo models are not in LiteLLM's cost map: price them at their tier so spend is still computed.
            info.setdefault("input_cost_per_token", tier.input_cost_per_million / 1_000_000)
            info.setdefault("output_cost_per_token", tier.output_cost_per_million / 1_000_000)
            info.setdefault("cache_read_input_token_cost", 0.0)
            info.setdefault("cache_creation_input_token_cost", 0.0)
    return info


def model_list(env: Environment) -> list[dict[str, Any]]:
    """Each deployment is callable by its own name and, when it has a tier, as part of the tier's model group."""
    out: list[dict[str, Any]] = []
    for model in env.gateway.models:
        groups = [model.model_name] + ([model.tier] if model.tier else [])
        for group in groups:
            out.append(
                {
                    "model_name": group,
                    "litellm_params": _params(env, model),
                    "model_info": _model_info(env, model, group),
                }
            )
    return out


def _cache_params(env: Environment) -> dict[str, Any]:
    caching = env.gateway.caching
    params: dict[str, Any] = {"type": caching.backend, "ttl": caching.ttl_seconds}
    if caching.backend == "redis":
        # Connection comes from REDIS_HOST / REDIS_PORT / REDIS_PASSWORD / REDIS_SSL set by the deployment target.
        params["supported_call_types"] = ["acompletion", "completion", "aembedding", "embedding"]
    return params


def render_litellm_config(env: Environment) -> dict[str, Any]:
    gw = env.gateway
    routing = gw.routing
    litellm_settings: dict[str, Any] = {
        "drop_params": True,
        "num_retries": routing.num_retries,
        "request_timeout": routing.timeout_seconds,
        "json_logs": True,
        "cache": gw.caching.enabled,
    }
    if gw.caching.enabled:
        litellm_settings["cache_params"] = _cache_params(env)
    if is_offline(env):
        litellm_settings.update(OFFLINE_LITELLM_SETTINGS)  # e.g. no Hugging Face tokenizer downloads
    if gw.limits.max_budget_usd is not None:
        litellm_settings["max_budget"] = gw.limits.max_budget_usd
        litellm_settings["budget_duration"] = gw.limits.budget_duration or "30d"
    default_key = gw.limits.default_key.model_dump(exclude_none=True)
    if default_key:
        litellm_settings["default_key_generate_params"] = {
            **({"rpm_limit": default_key["rpm"]} if "rpm" in default_key else {}),
            **({"tpm_limit": default_key["tpm"]} if "tpm" in default_key else {}),
            **({"max_budget": default_key["max_budget_usd"]} if "max_budget_usd" in default_key else {}),
            **({"budget_duration": default_key["budget_duration"]} if "budget_duration" in default_key else {}),
        }

    general_settings: dict[str, Any] = {"master_key": env.secrets.master_key.litellm_ref}
    if env.database.enabled:
        general_settings["database_url"] = f"os.environ/{DATABASE_URL_ENV}"
    else:
        general_settings["disable_spend_logs"] = True
    if gw.limits.max_parallel_requests is not None:
        general_settings["max_parallel_requests"] = gw.limits.max_parallel_requests
    if gw.limits.global_max_parallel_requests is not None:
        general_settings["global_max_parallel_requests"] = gw.limits.global_max_parallel_requests
    if is_offline(env):
        general_settings.update(OFFLINE_GENERAL_SETTINGS)  # no start-up model-info discovery (GET /v1/models)

    router_settings: dict[str, Any] = {
        "routing_strategy": routing.strategy,
        "num_retries": routing.num_retries,
        "timeout": routing.timeout_seconds,
        "allowed_fails": routing.allowed_fails,
        "cooldown_time": routing.cooldown_seconds,
    }
    if routing.fallbacks:
        router_settings["fallbacks"] = [{src: list(dst)} for src, dst in routing.fallbacks.items()]

    config = {
        "model_list": model_list(env),
        "litellm_settings": litellm_settings,
        "general_settings": general_settings,
        "router_settings": router_settings,
    }
    add_ml_routing(env, config)  # ML routing: alias callback + spec (gatekit/routing/render.py)
    add_agent_gateways(env, config)  # MCP servers and A2A agents (gatekit/render/agents.py)
    add_litellm_surface(env, config)  # client APIs, resilience, callbacks, overrides (render/litellm_surface.py)
    return config
