"""Apply a validated environment to the running LiteLLM router through its update API (upsert_deployment,
delete_deployment, update_settings). Every call is synchronous and the event loop runs nothing in between, so a
request sees either the old deployment set or the new one, never a half-applied mix."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, cast

from litellm.constants import RUNTIME_UPDATABLE_ROUTER_SETTINGS
from litellm.router import Router
from litellm.types.router import Deployment, LiteLLM_Params

from gatekit.config import Environment
from gatekit.render.litellm import render_litellm_config

# Parts of the environment a running process cannot take over; a change there is reported as restart_required.
RESTART_PATHS: tuple[tuple[str, ...], ...] = (
    ("target",),
    ("deployment",),
    ("network",),
    ("compute",),
    ("observability",),
    ("secrets",),
    ("database",),
    ("cache",),
    ("gateway", "host"),
    ("gateway", "port"),
    ("gateway", "workers"),
    ("gateway", "caching"),
    ("gateway", "limits"),
    ("gateway", "demo_provider"),
    ("gateway", "routing", "ml"),
    ("gateway", "config_sync", "source"),
    ("gateway", "config_sync", "uri"),
    # Agent gateways: LiteLLM loads mcp_servers and agents from its config file at startup only.
    ("gateway", "mcp_servers"),
    ("gateway", "agents"),
    ("gateway", "access_groups"),
)


class ApplyError(RuntimeError):
    pass


def _dig(tree: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        tree = tree.get(part) if isinstance(tree, dict) else None  # type: ignore[assignment]
    return tree


def restart_required(old: Environment, new: Environment) -> list[str]:
    a, b = old.model_dump(mode="json"), new.model_dump(mode="json")
    return [".".join(path) for path in RESTART_PATHS if _dig(a, path) != _dig(b, path)]


def _resolve(params: dict[str, Any]) -> dict[str, Any]:
    """`os.environ/VAR` references become values, as LiteLLM's own config loader does."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("os.environ/"):
            var = value.removeprefix("os.environ/")
            if var not in os.environ:
                raise ApplyError(f"`{key}` refers to {var}, which is not set in this replica's environment")
            value = os.environ[var]
        out[key] = value
    return out


def _deployments(config: dict[str, Any]) -> dict[str, Deployment]:
    out: dict[str, Deployment] = {}
    for entry in config["model_list"]:
        deployment = Deployment(
            model_name=entry["model_name"],
            litellm_params=LiteLLM_Params(**_resolve(entry["litellm_params"])),
            model_info=entry["model_info"],
        )
        out[str(entry["model_info"]["id"])] = deployment
    return out


class RouterApplier:
    """Moves the router from the deployments gatekit rendered last time to the ones the new environment renders.
    Deployments gatekit did not render (added by an operator or another extension) are left alone."""

    def __init__(self, get_router: Callable[[], Router | None], current: Environment) -> None:
        self.get_router = get_router
        self.startup = current  # what the process itself runs with (ports, workers, observability, …)
        self.current = current

    def __call__(self, env: Environment) -> list[str]:
        router = self.get_router()
        if router is None:
            raise ApplyError("LiteLLM has no router yet")
        old_config = render_litellm_config(self.current)
        old_ids = {str(entry["model_info"]["id"]) for entry in old_config["model_list"]}
        config = render_litellm_config(env)
        desired = _deployments(config)  # built (and validated) before the router is touched
        settings = {k: v for k, v in config["router_settings"].items() if k in RUNTIME_UPDATABLE_ROUTER_SETTINGS}
        for deployment in desired.values():
            router.upsert_deployment(deployment)
        for model_id in sorted(old_ids - set(desired)):
            router.delete_deployment(model_id)
        cast(Any, router).update_settings(**settings)  # LiteLLM leaves update_settings' kwargs untyped
        pending = restart_required(self.startup, env)
        old_settings = old_config["router_settings"]
        pending += [
            f"router_settings.{k}"
            for k, v in config["router_settings"].items()
            if k not in settings and old_settings.get(k) != v
        ]
        self.current = env
        return pending
