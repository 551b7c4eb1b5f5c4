"""`gatekit rehearse --env E [--json]`: run what environment E deploys, the way its platform runs it, on this machine
(real PostgreSQL, Redis with TLS and AUTH, moto, the demo provider), and check it. Exits 0 only when every check
passes; what cannot be reproduced here is listed as `not_reproduced` with the reason."""

from __future__ import annotations

from pathlib import Path

import click

from gatekit.cli.options import config_dir_option, set_option


@click.command("rehearse")
@click.option("--env", "env_name", required=True, help="Environment to rehearse (config/environments/NAME.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (checks, evidence, not_reproduced).")
@click.option("--keep", is_flag=True, help="Keep the work directory (process logs, synthesized templates).")
@config_dir_option
@set_option
def rehearse(env_name: str, as_json: bool, keep: bool, config_dir: Path | None, overrides: tuple[str, ...]) -> None:
    """Rehearse one environment's deployment end to end and report every check."""
    import os

    if os.geteuid() != 0:
        raise click.ClickException(
            "the rehearsal runs the gateway as the image's non-root uid, which needs root to switch to; run it as root "
            "(e.g. in the CI container)"
        )
    from gatekit.config import ConfigError
    from gatekit.rehearse.session import rehearse_environment, shared_services

    with shared_services(keep=keep) as shared:
        if config_dir is not None:
            shared.config_dir = config_dir
        try:
            report = rehearse_environment(shared, env_name, list(overrides))
        except ConfigError as exc:
            click.echo(exc.report(), err=True)
            raise SystemExit(1) from None
        if keep:
            click.echo(f"work directory: {shared.workdir}", err=True)
    click.echo(report.to_json() if as_json else report.to_text())
    raise SystemExit(0 if report.passed else 1)
