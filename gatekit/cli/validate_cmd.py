"""`gatekit validate`: run the parity gates against a running deployment (the post-deploy check)."""

from __future__ import annotations

import click


@click.command()
@click.option("--url", required=True, envvar="GATEKIT_URL", help="Gateway base URL, e.g. https://gateway.example.com")
@click.option("--key", required=True, envvar="GATEKIT_MASTER_KEY", help="Master key (or $GATEKIT_MASTER_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per request.")
def validate(url: str, key: str, as_json: bool, timeout: float) -> None:
    """Exit 0 when every gate passes (or is skipped because the feature is not configured); 1 otherwise."""
    from gatekit.runtime import gates

    results = gates.run_gates(url, key, timeout)
    click.echo(gates.as_json(results) if as_json else gates.as_table(results))
    if any(r.failed for r in results):
        raise SystemExit(1)
