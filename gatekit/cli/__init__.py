"""The `gatekit` command. Subcommands are imported lazily so `gatekit config validate` never pays for LiteLLM,
CDK or Pulumi imports."""

from __future__ import annotations

import importlib
import importlib.util

import click

# name -> "module:attribute". Each subcommand lives in its own module.
COMMANDS: dict[str, str] = {
    "config": "gatekit.cli.config_cmd:config",
    "up": "gatekit.cli.up_cmd:up",
    "mock-llm": "gatekit.cli.mock_cmd:mock_llm",
    "serve": "gatekit.cli.serve_cmd:serve",
    "migrate": "gatekit.cli.migrate_cmd:migrate",
    "validate": "gatekit.cli.validate_cmd:validate",
    "synth": "gatekit.cli.synth_cmd:synth",
    "pulumi": "gatekit.cli.pulumi_cmd:pulumi_group",
    "route": "gatekit.cli.route_cmd:route",
    "moat": "gatekit.cli.moat_cmd:moat",
    "ops": "gatekit.cli.ops.commands:ops",
    "rehearse": "gatekit.cli.rehearse_cmd:rehearse",
    "tenants": "gatekit.cli.tenants_cmd:tenants",
}


def _available(target: str) -> bool:
    return importlib.util.find_spec(target.partition(":")[0]) is not None


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _available(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _available(target):
            return None
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gatekit")
def cli() -> None:
    """gatekit: deploy and operate a LiteLLM + LLMRouter gateway from one typed config."""


def main() -> None:
    cli(prog_name="gatekit")
