"""Render the LiteLLM surface blocks (gatekit/config/surface.py) into the LiteLLM config. One renderer: every target
(local, ECS, EKS, k8s, GCP, Azure, moat) serves the document `render_litellm_config` returns, so each block renders
identically everywhere."""

from __future__ import annotations

from typing import Any

from gatekit.config import Environment
from gatekit.config.gateway import ModelDeployment
from gatekit.config.secrets import SecretRef
from gatekit.config.surface import ErrorKind
from gatekit.render.litellm_throughput import add_throughput_settings

# A 404 must not count towards a cooldown: a route the upstream lacks says nothing about its chat health.
NEVER_COOL_DOWN = 1_000_000
PROMETHEUS_CALLBACK = "prometheus"


def _error_policy(counts: dict[ErrorKind, int], suffix: str) -> dict[str, int]:
    return {f"{kind.removesuffix('Error')}Error{suffix}": n for kind, n in counts.items()}


def _bridges_responses(env: Environment, model: ModelDeployment) -> bool:
    mode = env.gateway.client_apis.responses
    if mode != "auto":
        return mode == "chat-completions"
    if model.demo:
        return True
    params = model.litellm_params
    return params is not None and params.model.startswith("openai/") and params.api_base is not None


def _client_apis(env: Environment, config: dict[str, Any]) -> None:
    apis = env.gateway.client_apis
    if apis.anthropic_messages == "chat-completions":
        config["litellm_settings"]["use_chat_completions_url_for_anthropic_messages"] = True
    by_name = {m.model_name: m for m in env.gateway.models}
    for entry in config["model_list"]:
        model = by_name.get(entry["model_info"].get("gatekit_deployment", ""))
        if model is not None and model.mode == "chat" and _bridges_responses(env, model):
            entry["litellm_params"]["use_chat_completions_api"] = True


def _resilience(env: Environment, router: dict[str, Any]) -> None:
    res = env.gateway.resilience
    if res.retry_policy:
        router["retry_policy"] = _error_policy(res.retry_policy, "Retries")
    if res.retry_after_seconds:
        router["retry_after"] = res.retry_after_seconds
    policy = _error_policy(res.allowed_fails_policy, "AllowedFails")
    if not res.not_found_cools_down:
        policy.setdefault("NotFoundErrorAllowedFails", NEVER_COOL_DOWN)
    if policy:
        router["allowed_fails_policy"] = policy
    if res.context_window_fallbacks:
        router["context_window_fallbacks"] = [{k: list(v)} for k, v in res.context_window_fallbacks.items()]
    if res.content_policy_fallbacks:
        router["content_policy_fallbacks"] = [{k: list(v)} for k, v in res.content_policy_fallbacks.items()]


def _callbacks(env: Environment, settings: dict[str, Any]) -> None:
    """Add the callbacks (their credentials reach the process as variables: `callback_environment`)."""
    cb = env.gateway.callbacks
    names: list[str] = settings.setdefault("callbacks", [])
    if cb.prometheus and PROMETHEUS_CALLBACK not in names:
        names.append(PROMETHEUS_CALLBACK)
    if cb.otel:
        names.append("otel")
    if cb.langfuse is not None:
        names.append("langfuse")
    if cb.s3_audit is not None:
        settings.setdefault("success_callback", []).append("s3")
        settings["s3_callback_params"] = {
            "s3_bucket_name": cb.s3_audit.bucket,
            "s3_region_name": cb.s3_audit.region,
            "s3_path": cb.s3_audit.path,
        }
    if not names:
        del settings["callbacks"]


def callback_environment(env: Environment) -> tuple[dict[str, str], dict[str, SecretRef]]:
    """(plain variables, secret references by variable) the callbacks read from the process environment."""
    cb = env.gateway.callbacks
    plain: dict[str, str] = {}
    secrets: dict[str, SecretRef] = {}
    if cb.langfuse is not None:
        plain["LANGFUSE_HOST"] = cb.langfuse.host
        secrets["LANGFUSE_PUBLIC_KEY"] = cb.langfuse.public_key
        secrets["LANGFUSE_SECRET_KEY"] = cb.langfuse.secret_key
    return plain, secrets


def _general(env: Environment, general: dict[str, Any]) -> None:
    gw = env.gateway
    if env.database.enabled:
        general["allow_requests_on_db_unavailable"] = gw.degraded.postgres_down == "serve"
        if gw.spend_logs.retention:
            general["maximum_spend_logs_retention_period"] = gw.spend_logs.retention
        if gw.spend_logs.store_prompts:
            general["store_prompts_in_spend_logs"] = True


def _overrides(env: Environment, config: dict[str, Any]) -> None:
    for section in ("litellm_settings", "router_settings", "general_settings"):
        for key, value in env.gateway.litellm.section(section).items():
            config.setdefault(section, {})[key] = value


def add_litellm_surface(env: Environment, config: dict[str, Any]) -> None:
    """Apply client APIs, resilience, callbacks, spend logs, degraded mode and the open overrides, in place."""
    _client_apis(env, config)
    _resilience(env, config["router_settings"])
    _callbacks(env, config["litellm_settings"])
    _general(env, config["general_settings"])
    add_throughput_settings(env, config["general_settings"])  # pool, spend batch writes (litellm_throughput.py)
    _overrides(env, config)
