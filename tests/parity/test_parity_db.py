"""The database matrix against real servers: gatekit (`gatekit up`, database on) vs vanilla LiteLLM on the same
rendered config, each in its own database of one PostgreSQL 16 server, LiteLLM's Prisma client on the TEST-ONLY
engine stand-in (ADR 0014). Management, spend and budget rows must be identical or declared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli.validate_cmd import validate
from gatekit.parity.db_matrix import build_db_matrix
from tests.parity.conftest import NON_ADMIN_SOURCE, ParityDbPair

pytestmark = pytest.mark.timeout(1800)  # the first test pays for two migrations and two LiteLLM start-ups

# Rows both sides must answer 200 with a database: parity of errors alone would not prove the endpoint works.
MUST_SUCCEED = (
    "/health/readiness (database)",
    "/key/generate",
    "/key/generate (zero budget)",
    "/v1/chat/completions (virtual key)",
    "/spend/logs (virtual key)",
    "/global/spend",
    "/key/info",
    "/user/new",
    "/user/info",
    "/team/new",
    "/team/info",
    "/model/info",
    "/key/generate (to delete)",
    "/key/delete",
)


def doc_path(tmp_path: Path) -> Path:
    """GATEKIT_PARITY_DOC=docs/parity.md regenerates the document from this run; otherwise a scratch copy."""
    return Path(os.environ.get("GATEKIT_PARITY_DOC") or tmp_path / "parity.md")


def test_database_matrix_is_identical_or_declared(parity_db_pair: ParityDbPair, tmp_path: Path) -> None:
    pair = parity_db_pair
    markdown = doc_path(tmp_path)
    args = ["--parity", "--matrix", "database", "--json", "--url", pair.gateway.url, "--against", pair.upstream_url]
    args += ["--key", pair.key, "--non-admin-from", NON_ADMIN_SOURCE, "--markdown", str(markdown)]
    args += ["--section", "database"]
    result = CliRunner().invoke(validate, args)
    rows = json.loads(result.output)
    undeclared = [(r["row"], r["differences"]) for r in rows if r["verdict"] not in ("identical", "declared")]
    assert undeclared == [], undeclared
    assert result.exit_code == 0, result.output
    assert [r["row"] for r in rows] == [row.name for row in build_db_matrix("x", non_admin=True)]
    by_name = {r["row"]: r for r in rows}
    for name in MUST_SUCCEED:
        assert by_name[name]["gatekit"]["status"] == 200, by_name[name]
        assert by_name[name]["upstream"]["status"] == 200, by_name[name]
    refused = by_name["budget exceeded (refusal)"]  # LiteLLM's budget_exceeded_status_code (422 in 1.106)
    assert refused["gatekit"]["status"] == refused["upstream"]["status"], refused
    assert 400 <= refused["gatekit"]["status"] < 500, refused
    unknown = by_name["unknown virtual key"]
    assert unknown["gatekit"]["status"] == unknown["upstream"]["status"] == 401, unknown
    # The exposure rule: from a non-admin address gatekit hides the management API; vanilla serves it.
    outside = by_name["/key/generate (non-admin client)"]
    assert (outside["gatekit"]["status"], outside["upstream"]["status"], outside["verdict"]) == (404, 200, "declared")

    # Each side wrote to its own database: keys, users, teams and the virtual key's spend row, in both.
    for db in pair.databases:
        counts = pair.pg.sql(
            'SELECT (SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_email LIKE %s), '
            '(SELECT count(*) FROM "LiteLLM_TeamTable" WHERE team_alias LIKE %s), '
            '(SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE api_key <> %s)',
            db=db,
            params=("parity-%@example.com", "parity-%", ""),
        )
        assert counts[0][0] == 1 and counts[0][1] == 1 and counts[0][2] >= 1, (db, counts)
    text = markdown.read_text()
    assert all(f"| {name} *DB* |" in text for name in by_name)
