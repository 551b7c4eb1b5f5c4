"""The Pulumi program: read which gatekit environment the stack renders, then build that target."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi

from gatekit.config import ConfigError, Environment, default_config_dir, load_environment

TARGETS = ("gcp", "azure", "k8s")


def stack_environment() -> Environment:
    """`gatekit:environment` names the environment; optional `gatekit:overrides` (a list of PATH=VALUE) and
    `gatekit:configDir` work like `--set` and `--config-dir`."""
    cfg = pulumi.Config("gatekit")
    name = cfg.require("environment")
    overrides: Sequence[str] = cfg.get_object("overrides") or []
    config_dir = cfg.get("configDir")
    try:
        return load_environment(name, Path(config_dir) if config_dir else default_config_dir(), overrides)
    except ConfigError as exc:
        raise pulumi.RunError(f"gatekit environment `{name}` is invalid:\n{exc.report()}") from None


def deploy(env: Environment) -> dict[str, Any]:
    """Create every resource of one environment; returns the stack outputs."""
    if env.target == "gcp":
        from gatekit.clouds import gcp

        return gcp.deploy(env)
    if env.target == "azure":
        from gatekit.clouds import azure

        return azure.deploy(env)
    if env.target == "k8s":
        from gatekit.clouds import k8s

        return k8s.deploy(env)
    raise pulumi.RunError(
        f"environment `{env.name}` has target `{env.target}`; the Pulumi program deploys {', '.join(TARGETS)} "
        "(AWS targets deploy with `cdk deploy`)"
    )


def run() -> None:
    for key, value in deploy(stack_environment()).items():
        pulumi.export(key, value)
