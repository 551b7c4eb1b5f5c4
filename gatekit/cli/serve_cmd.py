"""`gatekit serve`: the gateway process (the image's entrypoint)."""

from __future__ import annotations

from pathlib import Path

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option


@click.command()
@config_dir_option
@set_option
@click.option("--env", "env_name", envvar="GATEKIT_ENV", default="local", show_default=True)
@click.option("--host", default=None, help="Bind address (default: gateway.host).")
@click.option("--port", default=None, type=int, help="Port (default: gateway.port).")
def serve(
    config_dir: Path | None, overrides: tuple[str, ...], env_name: str, host: str | None, port: int | None
) -> None:
    """Run the gateway (LiteLLM proxy + gatekit runtime) for one environment."""
    from gatekit.runtime.database import DatabaseCaError
    from gatekit.runtime.prepare import MissingSecretsError
    from gatekit.runtime.server import serve as run

    env = load_or_exit(env_name, config_dir, overrides)
    try:
        run(env, host=host, port=port)
    except (MissingSecretsError, DatabaseCaError) as exc:
        raise click.ClickException(str(exc)) from None
