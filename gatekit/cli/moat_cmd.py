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
    default=None,
    metavar="PEM|kms:KEY",
    help="Signs MANIFEST: an Ed25519/ECDSA P-256/RSA private key (PEM file), or kms:<key id, ARN or alias> for an "
    "AWS KMS SIGN_VERIFY key (ECC_NIST_P256 or RSA). Its public half travels with the bundle.",
)
@click.option(
    "--serial",
    type=click.IntRange(min=1),
    default=None,
    help="Monotonic bundle version (default: build time, seconds since the epoch); installers refuse a lower one.",
)
@click.option(
    "--allow-absent",
    multiple=True,
    metavar="COMPONENT",
    help="A component that may be absent (e.g. collector_image); any other absent component fails the build.",
)
@config_dir_option
@set_option
def build(
    env_name: str,
    out_dir: Path,
    sign_key: str | None,
    serial: int | None,
    allow_absent: tuple[str, ...],
    config_dir: Path | None,
    overrides: tuple[str, ...],
) -> None:
    """Assemble the bundle: wheelhouse, image archives, offline gateway config, encodings, IaC, SBOM and a MANIFEST.
    Exits 1 when a component is absent, unless it is named with --allow-absent (the bundle still records why)."""
    from gatekit.config import default_config_dir
    from gatekit.moat.build import BuildRequest, BundleError, build_bundle
    from gatekit.moat.lock import LockError, project_root
    from gatekit.moat.signing import SigningError

    env = load_or_exit(env_name, config_dir, overrides)
    try:
        root = project_root()
        request = BuildRequest(
            env, root, out_dir, (config_dir or default_config_dir()).resolve(), overrides, sign_key, serial
        )
        result = build_bundle(request, lambda line: click.echo(line, err=True))
    except (BundleError, LockError, SigningError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    absent = {name: c.reason for name, c in result.components.items() if not c.present}
    click.echo(f"bundle {result.out}: {result.wheels} wheels, built in {result.seconds:.0f} s")
    for name, reason in sorted(absent.items()):
        allowed = " (allowed)" if name in allow_absent else ""
        click.echo(f"  absent {name}{allowed}: {reason}")
    unknown = sorted(set(allow_absent) - set(result.components))
    if unknown:
        raise click.ClickException(f"--allow-absent names no component: {', '.join(unknown)}")
    refused = sorted(set(absent) - set(allow_absent))
    if refused:
        raise click.ClickException(
            f"incomplete bundle: {', '.join(refused)} absent (see above; --allow-absent NAME to accept)"
        )


@moat.command("wheelhouse")
@click.option("--arch", type=click.Choice(["x86_64", "aarch64"]), required=True, help="Linux CPU architecture.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for requirements/ (runtime.txt: this platform's set), wheelhouse/, wheelhouse.json (new or empty).",
)
@click.option("--check-only", is_flag=True, help="Decide from uv.lock which wheels serve the set; download nothing.")
def wheelhouse(arch: str, out_dir: Path, check_only: bool) -> None:
    """The runtime wheelhouse for one architecture (CPython 3.11, manylinux, glibc <= 2.36) from the same hashed
    lock: every requirement must have a locked wheel for it (named otherwise, exit 1); then pip downloads exactly
    those wheels, hash-checked. For an arm64 (aarch64) gateway host or image."""
    import json

    from gatekit.moat.lock import LockError, download_wheelhouse, export_runtime_requirements, project_root
    from gatekit.moat.platforms import coverage, variant_requirements

    if out_dir.exists() and any(out_dir.iterdir()):
        raise click.ClickException(f"{out_dir} exists and is not empty")
    try:
        root = project_root()
        exported = out_dir / "requirements" / "runtime-all.txt"
        export_runtime_requirements(root, exported)
        found = coverage(exported.read_text(), root / "uv.lock", arch)
        for label, reason in sorted(found.missing.items()):
            click.echo(f"  no {arch} wheel: {label}: {reason}", err=True)
        if not found.complete:
            raise click.ClickException(f"{len(found.missing)} requirement(s) have no {arch} wheel (listed above)")
        requirements = out_dir / "requirements" / "runtime.txt"  # markers decided for the target, hashes kept
        requirements.write_text(variant_requirements(exported.read_text(), found))
        downloaded = [] if check_only else download_wheelhouse(requirements, out_dir / "wheelhouse", arch)
    except LockError as exc:
        raise click.ClickException(str(exc)) from None
    expected = sorted(found.wheels.values())
    if not check_only and sorted(w.name for w in downloaded) != expected:
        got = {w.name for w in downloaded}
        raise click.ClickException(
            f"pip downloaded other wheels than uv.lock decides for {arch}: unexpected "
            f"{sorted(got - set(expected))}, not downloaded {sorted(set(expected) - got)}"
        )
    record = {"arch": arch, "python": "3.11", "wheels": found.wheels, "not_for_this_platform": found.not_needed}
    (out_dir / "wheelhouse.json").write_text(json.dumps(record, indent=2) + "\n")
    platform_specific = sum(arch in name for name in expected)
    action = "decided" if check_only else "downloaded"
    click.echo(f"{arch}: {len(expected)} wheels {action} ({platform_specific} {arch}-specific) -> {out_dir}")


@moat.command("verify")
@click.argument("bundle_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--trusted-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Public key obtained out of band; the bundle must be signed by it. (Before installing, verify with "
    "openssl instead: this command runs from an installation, never from the bundle being checked.)",
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
