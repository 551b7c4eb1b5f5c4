"""Runbook doc-tests: every runbook's commands run, in order, against the drill (moto seeded like a deployed
environment + the real local gateway as its replica). A runbook that drifts from the CLI fails here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gatekit.cli import cli
from tests.conftest import REPO
from tests.ops.conftest import Drill
from tests.ops.runbook_blocks import REQUIRED_SECTIONS, blocks, check_call, gatekit_calls, script

pytestmark = pytest.mark.slow

RUNBOOKS = REPO / "runbooks"
# The runbooks issue 8 asks for, by file. moat-install-upgrade.md belongs to the moat-mode work and is tested there.
REQUIRED = (
    "deploy-and-promote.md",
    "rollback.md",
    "change-config.md",
    "rotate-master-key.md",
    "rotate-provider-key.md",
    "rotate-db-credentials.md",
    "scale-and-autoscaling.md",
    "drain-and-replace-task.md",
    "aurora-failover.md",
    "restore-database.md",
    "cache-failover-and-flush.md",
    "incident-triage.md",
    "spend-report.md",
)
OTHER_OWNERS = frozenset({"moat-install-upgrade.md", "moat-aws-images.md"})
DRILL_TIMEOUT = 300


def test_every_runbook_is_drilled() -> None:
    present = {p.name for p in RUNBOOKS.glob("*.md")} - OTHER_OWNERS
    assert present == set(REQUIRED), f"runbooks without a drill: {sorted(present - set(REQUIRED))}"


@pytest.mark.parametrize("name", REQUIRED)
def test_runbook_shape_and_cli(name: str) -> None:
    """Sections, at least one executed step in Steps, skip reasons, and every gatekit call matches the CLI."""
    path = RUNBOOKS / name
    text = path.read_text()
    for section in REQUIRED_SECTIONS:
        assert f"\n{section}" in text, f"{name}: missing `{section}`"
    found = blocks(path)
    steps_at = text[: text.index("\n## Steps")].count("\n") + 1
    verification_at = text[: text.index("\n## Verification")].count("\n") + 1
    assert any(b.skip_reason is None and steps_at < b.line < verification_at for b in found), f"{name}: no drilled step"
    assert any(b.line > verification_at for b in found), f"{name}: verification/rollback without a command"
    problems = [f"{b.where}: {p}" for b in found for call in gatekit_calls(b.code) if (p := check_call(cli, call))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", REQUIRED)
def test_runbook_drill(name: str, drill: Drill, tmp_path: Path) -> None:
    found = blocks(RUNBOOKS / name)
    result = subprocess.run(
        ["bash", "-c", script(found)],
        cwd=tmp_path,
        env=drill.process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=DRILL_TIMEOUT,
    )
    transcript = result.stdout
    (tmp_path / "drill.log").write_text(transcript)
    ran = [line.removeprefix("::drill ") for line in transcript.splitlines() if line.startswith("::drill ")]
    assert result.returncode == 0, (
        f"{name}: block {ran[-1] if ran else '?'} failed with exit {result.returncode}; transcript (tail):\n"
        + transcript[-4000:]
    )
    executed = [b for b in found if b.skip_reason is None]
    assert len(ran) == len(executed), f"{name}: ran {len(ran)} of {len(executed)} blocks"
