"""`gatekit synth`: write every CloudFormation template of an AWS environment without the CDK CLI."""

from __future__ import annotations

from pathlib import Path

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option


@click.command("synth")
@click.option("--env", "env_name", required=True, help="Environment name (config/environments/NAME.yaml).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the templates and assets (a CDK cloud assembly).",
)
@click.option("--no-nag", is_flag=True, help="Skip the cdk-nag AwsSolutions checks (faster; not for CI).")
@config_dir_option
@set_option
def synth(env_name: str, out_dir: Path, no_nag: bool, config_dir: Path | None, overrides: tuple[str, ...]) -> None:
    """Synthesize the CDK stacks of one AWS environment (aws-ecs, aws-eks, moat) into --out.

    Exits 1 on an invalid config, an environment that is not an AWS target, or an unsuppressed cdk-nag finding.
    """
    env = load_or_exit(env_name, config_dir, overrides)
    # Imported here: loading aws-cdk-lib starts a Node.js process, which other subcommands never need.
    from cdk.app_builder import synth_environment
    from cdk.secrets_stack import SynthError

    try:
        result = synth_environment(env, out_dir, nag=not no_nag)
    except SynthError as exc:
        click.echo(f"gatekit synth: {exc}", err=True)
        raise SystemExit(1) from None
    for stack, template in sorted(result.templates.items()):
        click.echo(f"{stack}\t{template}")
    if result.errors:
        for error in result.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"gatekit synth: {len(result.errors)} unsuppressed finding(s) in `{env_name}`", err=True)
        raise SystemExit(1)
