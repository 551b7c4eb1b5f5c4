"""`gatekit tenants plan|apply`: the teams, users and virtual keys of `tenants:` against a live gateway's admin API.

Usable by CI against any deployment URL: `--url` (or $GATEKIT_URL) and the master key in $GATEKIT_MASTER_KEY. Key values
are read from each key's secret reference variable and never printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option

F = TypeVar("F", bound=Callable[..., Any])


def _common(func: F) -> F:
    func = click.option(
        "--env", "env_name", envvar="GATEKIT_ENV", required=True, help="Environment (or $GATEKIT_ENV)."
    )(func)
    func = click.option(
        "--url",
        envvar="GATEKIT_URL",
        required=True,
        help="Gateway base URL (or $GATEKIT_URL), e.g. https://llm.example",
    )(func)
    func = click.option("--timeout", default=60.0, show_default=True, help="Seconds per admin API call.")(func)
    return set_option(config_dir_option(func))


def _master_key() -> str:
    import os

    key = os.environ.get("GATEKIT_MASTER_KEY")
    if not key:
        raise click.ClickException("set GATEKIT_MASTER_KEY to the gateway's master key (admin API)")
    return key


def _plan(env_name: str, url: str, timeout: float, config_dir: Path | None, overrides: tuple[str, ...]) -> Any:
    from gatekit.ops.errors import OpsError
    from gatekit.ops.gateway_api import GatewayApi
    from gatekit.ops.tenants_plan import make_plan
    from gatekit.ops.tenants_state import desired_state, live_state

    env = load_or_exit(env_name, config_dir, overrides)
    api = GatewayApi(url, _master_key(), timeout=timeout)
    try:
        return (
            env,
            api,
            make_plan(desired_state(env.tenants, key_defaults=env.gateway.limits.default_key), live_state(api)),
        )
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def tenants() -> None:
    """Teams, users and virtual keys as code (`tenants:` in the environment's config)."""


@tenants.command()
@_common
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (drift), 0 when empty.")
def plan(
    env_name: str, url: str, timeout: float, config_dir: Path | None, overrides: tuple[str, ...], as_json: bool,
    detailed_exitcode: bool,
) -> None:  # fmt: skip
    """Show what `apply` would create, update, rotate or delete (drift made by hand included)."""
    _, _, result = _plan(env_name, url, timeout, config_dir, overrides)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, default=str))
    else:
        for line in result.lines():
            click.echo(line)
    if detailed_exitcode and not result.empty:
        raise SystemExit(2)


@tenants.command()
@_common
def apply(env_name: str, url: str, timeout: float, config_dir: Path | None, overrides: tuple[str, ...]) -> None:
    """Converge the gateway on `tenants:` (idempotent: a second apply changes nothing)."""
    from gatekit.ops.errors import OpsError
    from gatekit.ops.tenants_apply import apply_plan

    env, api, result = _plan(env_name, url, timeout, config_dir, overrides)
    if result.empty:
        click.echo(result.lines()[0])
        return
    try:
        count = apply_plan(api, result, env.tenants, click.echo)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Applied {count} change(s).")
