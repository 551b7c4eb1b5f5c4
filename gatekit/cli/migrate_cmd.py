"""`gatekit migrate`: the database migrations task/Job (gatekit.runtime.migrate; docs/adr/0020-gatekit-migrate.md)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--runtime-role",
    default=None,
    metavar="ROLE",
    help="Also grant this role what the gateway needs at run time (DML on LiteLLM's tables and views, sequences).",
)
@click.option("--no-views", is_flag=True, help="Skip creating LiteLLM's start-up views.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def migrate(runtime_role: str | None, no_views: bool, as_json: bool) -> None:
    """Apply LiteLLM's database migrations (litellm-proxy-extras) with Prisma-compatible bookkeeping.

    The database comes from DATABASE_URL, or from DATABASE_HOST/PORT/NAME/USER/PASSWORD/SSLMODE (as the gateway
    reads it). Idempotent: applied migrations are skipped. Exit 1 on any failure."""
    # LiteLLM's documented switch: the bundled model cost map, no fetch at import (the task may have no egress).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from litellm.proxy.db.db_url_settings import DatabaseURLSettings

    from gatekit.runtime.database import HOW, DatabaseCaError, write_database_ca
    from gatekit.runtime.migrate import MigrationError
    from gatekit.runtime.migrate import migrate as run

    base = os.environ.get("GATEKIT_RUNTIME_DIR")  # the image's writable runtime volume
    try:
        write_database_ca(Path(base) if base else Path(tempfile.mkdtemp(prefix="gatekit-migrate-")))
    except (DatabaseCaError, OSError) as exc:
        raise click.ClickException(f"cannot use the database CA: {exc}") from None
    try:
        DatabaseURLSettings.from_env().apply_to_env()
    except RuntimeError as exc:
        raise click.ClickException(f"cannot build the database URL: {exc}") from None
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise click.ClickException(f"no database configured: set {HOW}")
    try:
        result = run(url, views=not no_views, runtime_role=runtime_role, echo=lambda line: click.echo(line, err=True))
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # a connection or permission problem: one clear line, exit 1
        raise click.ClickException(f"migrate failed: {type(exc).__name__}: {exc}") from None
    summary = {
        "applied": result.applied,
        "already_applied": result.already_applied,
        "modified_after_apply": result.modified_after_apply,
        "views_created": result.views_created,
        "granted_to": result.granted_to,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"gatekit migrate: {len(result.applied)} applied, {result.already_applied} already applied"
            + (f", granted to {runtime_role}" if runtime_role else "")
        )
    for name in result.modified_after_apply:
        click.echo(f"warning: migration {name} changed after it was applied (checksum differs)", err=True)
