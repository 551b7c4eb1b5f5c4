"""`gatekit validate --parity`: run the matrix, print it, optionally write docs/parity.md; the exit code."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from gatekit.parity.matrix import Models
from gatekit.parity.report import as_markdown, as_table
from gatekit.parity.runner import run_parity


def run_parity_command(
    url: str,
    key: str,
    against: str | None,
    timeout: float,
    markdown: str | None,
    as_json: bool,
    demo: str | None = None,
    matrix: str = "local",
    non_admin_from: str | None = None,
    section: str | None = None,
    models: str | None = None,
) -> int:
    """0 when every row is identical or declared (or, without --against, answered); 1 otherwise."""
    names = Models.parse(models) if models else Models()
    results = run_parity(url, key, against, timeout, demo, matrix, non_admin_from, names)
    if as_json:
        rows = [
            {
                "row": r.row.name,
                "verdict": r.verdict,
                "gatekit": asdict(r.gatekit),
                "upstream": asdict(r.upstream) if r.upstream else None,
                "differences": r.differences,
                "declared": r.declared.reason if r.declared else None,
            }
            for r in results
        ]
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(as_table(results))
    if markdown:
        path = Path(markdown)
        existing = path.read_text() if path.exists() else ""
        path.write_text(as_markdown(results, section or matrix, existing))
    return 1 if any(r.failed for r in results) else 0
