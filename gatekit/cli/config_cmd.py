"""`gatekit config validate | render | schema | docs`."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from gatekit.cli.options import config_dir_option, load_or_exit, set_option
from gatekit.config import ConfigError, default_config_dir, environment_names, load_all


@click.group()
def config() -> None:
    """Validate and render the typed config (config/)."""


@config.command()
@config_dir_option
@set_option
@click.option("--env", "env_name", help="Validate one environment.")
@click.option("--all", "all_envs", is_flag=True, help="Validate every environment (the default).")
@click.option(
    "--fail-on-unenforced",
    is_flag=True,
    help="Exit 1 when a limit or budget is configured where nothing enforces it (default: a warning).",
)
@click.option(
    "--deploy",
    "for_deploy",
    is_flag=True,
    help="Also refuse the example values the shipped environments carry (placeholder CA, zone, digests, project).",
)
def validate(
    config_dir: Path | None,
    overrides: tuple[str, ...],
    env_name: str | None,
    all_envs: bool,
    fail_on_unenforced: bool,
    for_deploy: bool,
) -> None:
    """Exit 0 when valid; else print every problem as FILE:LINE: FIELD: WHAT and exit 1. `--set` applies to every
    environment validated, exactly as `gatekit serve --set` would."""
    config_dir = config_dir or default_config_dir()
    names = [env_name] if env_name and not all_envs else environment_names(config_dir)
    try:
        envs = load_all(config_dir, names, overrides)
    except ConfigError as exc:
        click.echo(exc.report(), err=True)
        click.echo(f"gatekit: {len(exc.problems)} problem(s) in {config_dir}", err=True)
        raise SystemExit(1) from None
    from gatekit.config.enforcement import unenforced  # security (issue 12)

    unenforced_count = 0
    for name, env in envs.items():
        click.echo(f"ok  {name:<10} target={env.target:<8} models={len(env.gateway.models)}")
        for path, message in unenforced(env):
            unenforced_count += 1
            click.echo(f"warning: {name}: {path}: not enforced: {message}", err=True)
    if for_deploy:  # security (issue 12): example values never reach a deployment
        from gatekit.config.placeholders import placeholder_report

        reports = [r for r in (placeholder_report(env) for env in envs.values()) if r]
        for text in reports:
            click.echo(f"error: {text}", err=True)
        if reports:
            raise SystemExit(1)
    if unenforced_count and fail_on_unenforced:
        click.echo(f"gatekit: {unenforced_count} limit(s) configured where nothing enforces them", err=True)
        raise SystemExit(1)


@config.command()
@config_dir_option
@set_option
@click.option("--env", "env_name", default="local", show_default=True)
@click.option(
    "--target",
    type=click.Choice(["litellm", "env", "json"]),
    default="litellm",
    show_default=True,
    help="litellm: the LiteLLM proxy config; env: the process environment; json: the resolved model.",
)
def render(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, target: str) -> None:
    """Print what one environment renders to."""
    env = load_or_exit(env_name, config_dir, overrides)
    if target == "litellm":
        from gatekit.render.litellm import render_litellm_config

        click.echo(yaml.safe_dump(render_litellm_config(env), sort_keys=False), nl=False)
    elif target == "env":
        from gatekit.render.env import render_environment

        click.echo(render_environment(env).dotenv(), nl=False)
    else:
        click.echo(env.model_dump_json(indent=2))


@config.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: <config-dir>/schema.json). `-` prints.",
)
@config_dir_option
def schema(out: Path | None, config_dir: Path | None) -> None:
    """Write the JSON Schema of an environment file, for editors."""
    from gatekit.config.schema import environment_file_schema

    text = json.dumps(environment_file_schema(), indent=2, sort_keys=True) + "\n"
    if out is not None and str(out) == "-":
        click.echo(text, nl=False)
        return
    out = out or (config_dir or default_config_dir()) / "schema.json"
    out.write_text(text)
    click.echo(f"wrote {out}")


@config.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/config.md"), show_default=True
)
def docs(out: Path) -> None:
    """Write the config reference (docs/config.md), generated from the model."""
    from gatekit.config.schema import reference_markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(reference_markdown())
    click.echo(f"wrote {out}")
