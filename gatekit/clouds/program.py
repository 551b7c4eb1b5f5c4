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
        env = load_environment(name, Path(config_dir) if config_dir else default_config_dir(), overrides)
    except ConfigError as exc:
        raise pulumi.RunError(f"gatekit environment `{name}` is invalid:\n{exc.report()}") from None
    problems = unreachable_models(env)
    if problems:
        raise pulumi.RunError(f"gatekit environment `{name}` cannot serve these models:\n" + "\n".join(problems))
    return env


AWS_CREDENTIALS = ("aws_access_key_id", "aws_secret_access_key")


def unreachable_models(env: Environment) -> list[str]:
    """Bedrock models outside AWS need AWS credentials as secret references; pods on GKE, AKS or another cluster
    have no AWS role to fall back on, so such a model would fail on every request."""
    out: list[str] = []
    for i, model in enumerate(env.gateway.models):
        params = model.litellm_params
        if params is None or not params.model.startswith("bedrock/"):
            continue
        given = {k for k, v in (params.model_extra or {}).items() if v is not None}
        missing = [k for k in AWS_CREDENTIALS if k not in given]
        if missing:
            out.append(
                f"gateway.models.{i} (`{model.model_name}`, {params.model}): target `{env.target}` has no AWS "
                f"credentials; set {' and '.join(missing)} (secret references) or use another provider"
            )
    return out


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
    env = stack_environment()
    if not pulumi.runtime.is_dry_run():  # `pulumi up`: the shipped files' example values never deploy (a preview may)
        from gatekit.config.placeholders import placeholder_report

        text = placeholder_report(env)
        if text:
            raise pulumi.RunError(text)
    for key, value in deploy(env).items():
        pulumi.export(key, value)
