"""`gatekit validate`: run the parity gates against a running deployment (the post-deploy check)."""

from __future__ import annotations

import click


@click.command()
@click.option("--url", required=True, envvar="GATEKIT_URL", help="Gateway base URL, e.g. https://gateway.example.com")
@click.option("--key", default=None, envvar="GATEKIT_MASTER_KEY", help="Master key (or $GATEKIT_MASTER_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per request.")
@click.option(
    "--sweep/--no-sweep",
    default=True,
    show_default=True,
    help="Also call every LiteLLM and gatekit route without a key: only the health probes may answer.",
)
@click.option("--sweep-only", is_flag=True, help="Run only the unauthenticated sweep (no key needed).")
@click.option(
    "--source-address",
    default=None,
    help="Sweep from this local address (e.g. one outside the admin networks on a multi-homed host).",
)
@click.option(
    "--routes-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Sweep this route table (JSON [[method, path], ...], as `python -m gatekit.runtime.sweep` prints it) instead "
    "of reading the installed LiteLLM's.",
)
@click.option("--parity", is_flag=True, help="Run the parity matrix instead of the gates (docs/parity.md).")
@click.option("--against", default=None, help="With --parity: a vanilla LiteLLM serving the same rendered config.")
@click.option("--markdown", type=click.Path(dir_okay=False), default=None, help="With --parity: write the matrix here.")
@click.option("--demo", default=None, help="With --parity: the shared demo provider (enables the fault rows).")
@click.option(
    "--matrix",
    type=click.Choice(["local", "database", "deployment"]),
    default="local",
    show_default=True,
    help="With --parity: local (DB-less, `make up`), database (management and spend; both sides have a database) or "
    "deployment (a cloud target: both, without the rows that need provider-wide settings or a staged fault).",
)
@click.option("--models", default=None, help="With --parity: ECONOMY,PREMIUM,EMBEDDING model names (default: local's).")
@click.option(
    "--non-admin-from",
    default=None,
    help="With --parity: a local address outside the deployment's admin_cidrs (the non-admin row; database matrices).",
)
@click.option(
    "--section",
    type=click.Choice(["local", "database", "rehearsed"]),
    default=None,
    help="With --markdown: the section of the document this run writes (default: the matrix's name).",
)
def validate(
    url: str,
    key: str | None,
    as_json: bool,
    timeout: float,
    sweep: bool,
    sweep_only: bool,
    source_address: str | None,
    routes_file: str | None,
    parity: bool,
    against: str | None,
    markdown: str | None,
    demo: str | None,
    matrix: str,
    models: str | None,
    non_admin_from: str | None,
    section: str | None,
) -> None:
    """Exit 0 when every gate passes (or is skipped because the feature is not configured); 1 otherwise."""
    from gatekit.runtime import gates

    if (against or markdown or demo or matrix != "local" or models or non_admin_from or section) and not parity:
        raise click.UsageError(
            "--against, --markdown, --demo, --matrix, --models, --non-admin-from, --section need --parity"
        )
    if non_admin_from and matrix == "local":
        raise click.UsageError("--non-admin-from needs --matrix database or deployment")
    if markdown and section is None and matrix == "deployment":
        raise click.UsageError("--matrix deployment writes a named section: give --section")
    if not sweep_only and not key:
        raise click.UsageError("--key (or $GATEKIT_MASTER_KEY) is required unless --sweep-only")
    if parity:
        from gatekit.parity.cli import run_parity_command

        raise SystemExit(
            run_parity_command(
                url, key or "", against, timeout, markdown, as_json, demo, matrix, non_admin_from, section, models
            )
        )
    results = [] if sweep_only else gates.run_gates(url, key or "", timeout)
    if sweep or sweep_only:
        routes = None
        if routes_file:
            import json
            from pathlib import Path

            routes = [(str(m), str(p)) for m, p in json.loads(Path(routes_file).read_text())]
        results.append(gates.sweep_gate(url, min(timeout, 30.0), source_address, routes))
    click.echo(gates.as_json(results) if as_json else gates.as_table(results))
    if any(r.failed for r in results):
        raise SystemExit(1)
