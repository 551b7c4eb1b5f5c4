"""The parity suite against real servers: `gatekit up` (env local) vs vanilla LiteLLM on the same rendered config."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from gatekit.cli.validate_cmd import validate
from gatekit.parity.declared import DECLARED
from gatekit.parity.matrix import build_matrix
from tests.parity.conftest import ParityPair

# Rows the demo provider answers for real on both sides: parity of errors alone would not prove the endpoint works.
MUST_SUCCEED = (
    "/v1/chat/completions",
    "/v1/chat/completions (stream)",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/images/generations",
    "/v1/audio/transcriptions",
    "/v1/audio/speech",
    "/v1/models",
    "/health",
    "/health/readiness",
    "model group (premium tier)",
    "response cache (repeat request)",
    "fallback (economy down)",
)


def test_parity_matrix_is_identical_or_declared(parity_pair: ParityPair, tmp_path: Path) -> None:
    markdown = Path(os.environ.get("GATEKIT_PARITY_DOC") or tmp_path / "parity.md")  # see test_parity_db.doc_path
    args = ["--parity", "--json", "--url", parity_pair.gateway.url, "--against", parity_pair.upstream_url]
    args += [
        "--key",
        parity_pair.key,
        "--markdown",
        str(markdown),
        "--demo",
        f"http://127.0.0.1:{parity_pair.demo_port}",
        "--section",
        "local",
    ]
    result = CliRunner().invoke(validate, args)
    rows = json.loads(result.output)
    undeclared = [(r["row"], r["differences"]) for r in rows if r["verdict"] not in ("identical", "declared")]
    assert undeclared == [], undeclared
    assert result.exit_code == 0, result.output
    assert [r["row"] for r in rows] == [row.name for row in build_matrix("x")]
    by_name = {r["row"]: r for r in rows}
    for name in MUST_SUCCEED:
        assert by_name[name]["gatekit"]["status"] == 200, by_name[name]
        assert by_name[name]["upstream"]["status"] == 200, by_name[name]
    # Every declaration is exercised by a run (this one, or the database matrix's non-admin row): a stale
    # declaration would hide nothing and mean nothing.
    declared_here = {r["row"] for r in rows if r["verdict"] == "declared"}
    assert declared_here == {d.row for d in DECLARED} - {"/key/generate (non-admin client)"}
    text = markdown.read_text()
    assert all(row.name in text for row in build_matrix("x"))
    assert "What gatekit adds beyond upstream" in text


def test_parity_fails_on_an_undeclared_difference(parity_pair: ParityPair) -> None:
    """Against a server that is not LiteLLM (the demo provider), rows differ undeclared: exit 1."""
    base = ["--parity", "--key", parity_pair.key, "--url", parity_pair.gateway.url]
    demo = f"http://127.0.0.1:{parity_pair.demo_port}"
    different = CliRunner().invoke(validate, [*base, "--against", demo])
    assert different.exit_code == 1, different.output
    assert "DIFFERENT" in different.output
