"""docs/parity.md is written section by section: a run replaces its own table and keeps the others."""

from __future__ import annotations

import pytest

from gatekit.parity.db_matrix import build_db_matrix, build_deployment_matrix
from gatekit.parity.matrix import Models, build_matrix
from gatekit.parity.report import as_markdown
from gatekit.parity.runner import Observation, Result


def _results(rows: list, status: int) -> list[Result]:  # type: ignore[type-arg]
    return [Result(r, Observation(status, {}, {}, 1.0), Observation(status, {}, {}, 1.0)) for r in rows]


def test_a_run_replaces_only_its_own_section() -> None:
    local = as_markdown(_results(build_matrix("t"), 200), "local")
    assert "Not measured yet: run the command with `--section database`" in local
    both = as_markdown(_results(build_db_matrix("t"), 201), "database", local)
    assert "| 201 | 201 |" in both and "| 200 | 200 |" in both
    again = as_markdown(_results(build_matrix("t"), 500), "local", both)
    assert "| 200 | 200 |" not in again and "| 500 | 500 |" in again and "| 201 | 201 |" in again
    assert again.count("## What gatekit adds beyond upstream") == 1
    with pytest.raises(ValueError):
        as_markdown([], "nowhere")


def test_deployment_matrix_uses_the_deployments_model_names() -> None:
    rows = build_deployment_matrix("t", Models.parse("claude-haiku,claude-sonnet,titan-embed"))
    names = [r.name for r in rows]
    assert len(names) == len(set(names))  # one row per name: the database rows are not repeated from `local`
    assert not any(r.provider_wide or r.fault for r in rows)
    bodies = [r.json for r in rows if r.json]
    assert "demo-economy" not in repr(bodies) and "claude-haiku" in repr(bodies) and "titan-embed" in repr(bodies)
    with pytest.raises(ValueError):
        Models.parse("only-one")
