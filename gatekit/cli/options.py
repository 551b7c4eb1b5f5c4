"""Options shared by subcommands, and the one place config errors become a clean exit 1."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from gatekit.config import ConfigError, Environment, default_config_dir, load_environment

F = TypeVar("F", bound=Callable[..., Any])


def config_dir_option(func: F) -> F:
    return click.option(
        "--config-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Config directory (default: $GATEKIT_CONFIG_DIR, ./config, or the embedded default).",
    )(func)


def set_option(func: F) -> F:
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="Override one field after merging, e.g. --set gateway.port=4100 (repeatable).",
    )(func)


def load_or_exit(name: str, config_dir: Path | None, overrides: Iterable[str] = ()) -> Environment:
    try:
        return load_environment(name, config_dir or default_config_dir(), overrides)
    except ConfigError as exc:
        click.echo(exc.report(), err=True)
        click.echo(f"gatekit: environment `{name}` is invalid ({len(exc.problems)} problem(s))", err=True)
        raise SystemExit(1) from None
