"""The type checker runs in strict mode (pyproject [tool.basedpyright], ADR 0030). A module not yet clean under strict
says so on its first line with `# pyright: standard`; this test keeps that list exact and shrinking: a new module may
not opt out, and a module cleaned up must drop its marker (so the file below is the debt, nothing hides elsewhere)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEBT = REPO / "tests" / "house" / "strict_debt.txt"
LOWER_LEVEL = re.compile(r"^#\s*pyright:\s*(basic|standard)\b", re.M)
RULE_OFF = re.compile(r"^#\s*pyright:\s*\w+\s*=\s*(false|none|warning|information)", re.M)
# Modules that switch one rule off for a stated reason (none: routing/train.py imports the training venv's torch and
# llmrouter-lib through importlib, typed Any, instead of switching reportMissingImports off).
ALLOWED_RULE_SWITCHES: set[str] = set()


def checked_files() -> list[Path]:
    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["basedpyright"]["include"]
    files: list[Path] = []
    for entry in include:
        path = REPO / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [f for f in files if "node_modules" not in f.parts and "__pycache__" not in f.parts]


def recorded_debt() -> set[str]:
    lines = DEBT.read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_the_checker_is_strict_with_only_missing_stubs_relaxed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["basedpyright"]
    assert config["typeCheckingMode"] == "strict"
    relaxed = {key for key, value in config.items() if key.startswith("report") and value in (False, "none")}
    assert relaxed <= {"reportMissingTypeStubs"}, relaxed


def test_modules_below_strict_are_exactly_the_recorded_debt() -> None:
    debt = {str(f.relative_to(REPO)) for f in checked_files() if LOWER_LEVEL.search(f.read_text())}
    recorded = recorded_debt()
    assert not debt - recorded, f"new modules below strict (fix their types instead): {sorted(debt - recorded)}"
    assert not recorded - debt, f"clean under strict now: remove from {DEBT.name}: {sorted(recorded - debt)}"


def test_no_module_switches_a_rule_off_without_a_recorded_reason() -> None:
    switched = {str(f.relative_to(REPO)) for f in checked_files() if RULE_OFF.search(f.read_text())}
    assert switched <= ALLOWED_RULE_SWITCHES, sorted(switched - ALLOWED_RULE_SWITCHES)


def test_a_marker_is_the_first_line_where_the_checker_reads_it() -> None:
    for name in recorded_debt():
        assert (REPO / name).read_text().splitlines()[0] == "# pyright: standard", name
