"""`gatekit moat`: build and verify the offline (air-gapped) bundle."""

from __future__ import annotations

from pathlib import Path

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option


@click.group("moat")
def moat() -> None:
    """Moat mode: the offline bundle for air-gapped networks."""


@moat.command("build")
@click.option("--env", "env_name", default="moat", show_default=True, help="An environment with target `moat`.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the bundle (new or empty).",
)
@click.option(
    "--sign-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Ed25519 private key (PEM) that signs MANIFEST; its public half travels with the bundle.",
)
@click.option(
    "--allow-absent",
    "allowed_absent",
    multiple=True,
    metavar="COMPONENT",
    help="A component the bundle may lack (e.g. `images` on a host without a container builder); repeatable. Any "
    "other absent component fails the build.",
)
@config_dir_option
@set_option
def build(
    env_name: str,
    out_dir: Path,
    sign_key: Path | None,
    allowed_absent: tuple[str, ...],
    config_dir: Path | None,
    overrides: tuple[str, ...],
) -> None:
    """Assemble the bundle: wheelhouse, offline gateway config, encodings, IaC, SBOM and a MANIFEST. Exits 1 when a
    component is absent, unless it is named with --allow-absent."""
    from gatekit.config import default_config_dir
    from gatekit.moat.build import BuildRequest, BundleError, build_bundle
    from gatekit.moat.lock import LockError, project_root

    env = load_or_exit(env_name, config_dir, overrides)
    try:
        root = project_root()
        request = BuildRequest(env, root, out_dir, (config_dir or default_config_dir()).resolve(), overrides, sign_key)
        result = build_bundle(request, lambda line: click.echo(line, err=True))
    except (BundleError, LockError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    absent = {name: c.reason for name, c in result.components.items() if not c.present}
    click.echo(f"bundle {result.out}: {result.wheels} wheels, built in {result.seconds:.0f} s")
    for name, reason in sorted(absent.items()):
        click.echo(f"  absent {name}: {reason}")
    unexpected = sorted(set(absent) - set(allowed_absent))
    if unexpected:
        raise click.ClickException(
            f"the bundle lacks {', '.join(unexpected)} (see above); fix the cause, or accept the gap explicitly with "
            + " ".join(f"--allow-absent {name}" for name in unexpected)
        )


@moat.command("verify")
@click.argument("bundle_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--trusted-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Public key obtained out of band; the bundle must be signed by it.",
)
def verify(bundle_dir: Path, trusted_key: Path | None) -> None:
    """Check every file against MANIFEST (offline). Exits 1 naming each missing, extra or altered file."""
    from gatekit.moat.manifest import verify_bundle

    result = verify_bundle(bundle_dir, trusted_key)
    for line in result.lines():
        click.echo(line, err=True)
    if not result.ok:
        click.echo(f"gatekit moat verify: {bundle_dir} FAILED ({len(result.lines())} problem(s))", err=True)
        raise SystemExit(1)
    signed = f", signed by {result.signed_by}" if result.signed_by else ", unsigned"
    click.echo(f"{bundle_dir}: OK ({result.checked} files{signed})")
