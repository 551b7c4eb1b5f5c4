"""`gatekit up`: run the gateway locally (the `local` environment: demo provider, DB-less, in-memory cache)."""

from __future__ import annotations

from pathlib import Path

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option


@click.command()
@config_dir_option
@set_option
@click.option("--env", "env_name", default="local", show_default=True)
@click.option("--port", default=None, type=int, help="Gateway port (default: gateway.port, 4000 for local).")
def up(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, port: int | None) -> None:
    """Start the gateway (and the demo provider when enabled). Ctrl-C or SIGTERM drains and exits."""
    from gatekit.runtime.local import DemoProviderError, banner, ensure_master_key, start_demo_provider, stop
    from gatekit.runtime.prepare import MissingSecretsError, apply_environment, runtime_dir_for, write_litellm_config
    from gatekit.runtime.server import exit_flush_seconds, exit_promptly, run_replica

    if port is not None:
        overrides = (*overrides, f"gateway.port={port}")
    env = load_or_exit(env_name, config_dir, overrides)
    try:
        key_file = ensure_master_key(env, runtime_dir_for(env))
        config_path = write_litellm_config(env, runtime_dir_for(env))
        apply_environment(env, config_path)
    except (MissingSecretsError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    demo = None
    served = False
    try:
        if env.gateway.demo_provider.enabled:
            demo = start_demo_provider(env.gateway.demo_provider)
        click.echo(banner(env, key_file, str(config_path)), err=True)
        served = run_replica(env)
    except DemoProviderError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        stop(demo)
    if served:
        # drained and shut down: skip the interpreter's slow teardown (runtime/server.py)
        exit_promptly(flush_seconds=exit_flush_seconds(env))
