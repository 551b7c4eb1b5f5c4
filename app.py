#!/usr/bin/env python3
"""CDK app entry point: `cdk synth -c env=NAME` / `cdk deploy -c env=NAME --all`.

This entry point is the only place that reads CDK context (`env`, optional `config_dir`); the stacks get the typed
config model. `gatekit synth --env NAME --out DIR` produces the same templates without the CDK CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cdk.app_builder import build_app, new_app
from cdk.secrets_stack import SynthError
from gatekit.config import ConfigError, Environment, default_config_dir, load_environment
from gatekit.config.placeholders import placeholder_report


def refuse_placeholders(env: Environment, allowed: object) -> None:
    """`cdk deploy` never ships the shipped files' example values (`-c allow_placeholders=true`: a dry synth)."""
    text = placeholder_report(env)
    if text and str(allowed).lower() != "true":
        sys.exit(f"app.py: {text}\n(a dry synth with the examples: -c allow_placeholders=true)")


def main() -> None:
    app = new_app()
    name = app.node.try_get_context("env")
    if not name:
        sys.exit("app.py: pass the environment, e.g. `cdk synth -c env=prod`")
    config_dir = app.node.try_get_context("config_dir")
    try:
        env = load_environment(str(name), Path(config_dir) if config_dir else default_config_dir())
        refuse_placeholders(env, app.node.try_get_context("allow_placeholders"))
        build_app(app, env)
    except ConfigError as exc:
        sys.exit(exc.report())
    except SynthError as exc:
        sys.exit(f"app.py: {exc}")
    app.synth()


if __name__ == "__main__":
    main()
