"""Options and error handling shared by the `gatekit ops` subcommands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option
from gatekit.ops.errors import OpsError

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

# `gatekit ops status --get NAME` (gatekit.ops.status.GETTERS implements them).
GETTER_NAMES = (
    "cache-group",
    "cluster",
    "config-uri",
    "db-cluster",
    "gateway-url",
    "latest-snapshot",
    "log-group",
    "service",
    "task-definition",
)


def env_options(func: F) -> F:
    """--env (or $GATEKIT_ENV), --config-dir, --set: which deployed environment to act on."""
    func = click.option(
        "--env",
        "env_name",
        envvar="GATEKIT_ENV",
        required=True,
        help="Environment to operate (or $GATEKIT_ENV); its deployment.prefix finds the stacks.",
    )(func)
    return set_option(config_dir_option(func))


def yes_option(func: F) -> F:
    return click.option("--yes", "confirmed", is_flag=True, help="Apply. Without it: print what would happen.")(func)


def key_option(func: F) -> F:
    return click.option(
        "--key",
        envvar="GATEKIT_MASTER_KEY",
        default=None,
        help="Master key (or $GATEKIT_MASTER_KEY); default: read from the master key secret.",
    )(func)


def replica_option(func: F) -> F:
    return click.option(
        "--replica",
        "replicas",
        multiple=True,
        metavar="URL",
        help="Replica base URL (repeatable). Default: $GATEKIT_REPLICAS, else every running task's private IP.",
    )(func)


def url_option(func: F) -> F:
    return click.option(
        "--url",
        envvar="GATEKIT_URL",
        default=None,
        help="Gateway URL (or $GATEKIT_URL); default: the GatewayUrl output.",
    )(func)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """OpsError -> its message on stderr and its exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OpsError as exc:
            click.echo(f"gatekit ops: {exc}", err=True)
            raise SystemExit(exc.exit_code) from None

    return wrapper


def open_deployment(env_name: str, config_dir: Path | None, overrides: tuple[str, ...]) -> Any:
    from gatekit.ops.discovery import Deployment

    return Deployment.open(load_or_exit(env_name, config_dir, overrides))


def echo(text: str) -> None:
    click.echo(text)
