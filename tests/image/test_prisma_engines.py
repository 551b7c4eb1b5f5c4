"""image/prisma-engines.sh, the Prisma step of the image build: with PRISMA_ENGINES=bake it produces the query engine
FILE where prisma-client-py looks for it, or fails the build saying why - an empty directory, a stub or another
platform's engine never passes. A stand-in `prisma` CLI plays `prisma generate` (the engines host is unreachable
here)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "image" / "prisma-engines.sh"
TARGET = "debian-openssl-3.0.x"
ENGINE_SIZE = 2 * 1024 * 1024

# `prisma generate` as the test wants it: writes $FAKE_ENGINE_PATH (relative to the cache) of $FAKE_ENGINE_SIZE bytes.
FAKE_PRISMA = """#!/bin/sh
set -e
case "$1" in
  generate)
    [ -n "$FAKE_ENGINE_PATH" ] || exit 0
    mkdir -p "$(dirname "$PRISMA_BINARY_CACHE_DIR/$FAKE_ENGINE_PATH")"
    head -c "$FAKE_ENGINE_SIZE" /dev/urandom > "$PRISMA_BINARY_CACHE_DIR/$FAKE_ENGINE_PATH" ;;
  --version) echo "prisma (stand-in for this test)" ;;
esac
"""


def run(tmp_path: Path, mode: str, engine_path: str | None = None, size: int = ENGINE_SIZE):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    prisma = venv / "bin" / "prisma"
    prisma.write_text(FAKE_PRISMA)
    prisma.chmod(0o755)
    home = tmp_path / "opt-prisma"
    env = {
        "PATH": os.environ["PATH"],
        "PRISMA_HOME_DIR": str(home),
        "PRISMA_BINARY_CACHE_DIR": str(home / "binaries"),
        "PRISMA_NODEENV_CACHE_DIR": str(home / "nodeenv"),
        "PRISMA_CLI_BINARY_TARGETS": TARGET,
        "FAKE_ENGINE_PATH": engine_path or "",
        "FAKE_ENGINE_SIZE": str(size),
    }
    proc = subprocess.run(
        ["bash", str(SCRIPT), mode, str(venv), str(tmp_path / "schema.prisma")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc, home


@pytest.mark.parametrize(
    ("case", "engine_path", "size"),
    [
        ("generate produced nothing (empty directory)", None, 0),
        ("a stub, not an engine", f"prisma-query-engine-{TARGET}", 1000),
        ("another platform's engine", "prisma-query-engine-linux-musl", ENGINE_SIZE),
    ],
)
def test_bake_refuses_without_the_engine_file(tmp_path: Path, case: str, engine_path: str | None, size: int) -> None:
    proc, _ = run(tmp_path, "bake", engine_path, size)
    assert proc.returncode != 0, case
    assert f"no query engine for {TARGET}" in proc.stderr and "Refusing to build an image" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "engine_path",
    [f"prisma-query-engine-{TARGET}", f"node_modules/@prisma/engines/query-engine-{TARGET}"],
)
def test_bake_places_and_lists_the_engine(tmp_path: Path, engine_path: str) -> None:
    proc, home = run(tmp_path, "bake", engine_path)
    assert proc.returncode == 0, proc.stderr
    engine = home / "binaries" / f"prisma-query-engine-{TARGET}"
    assert engine.is_file() and os.access(engine, os.X_OK)
    listing = (home / "ENGINES.sha256").read_text()
    digest = hashlib.sha256(engine.read_bytes()).hexdigest()
    # The line image/structure-tests-prisma.yaml expects on a baked image.
    assert f"{digest}  binaries/prisma-query-engine-{TARGET}\n" in listing
    assert "absent" not in listing


def test_absent_records_the_absence(tmp_path: Path) -> None:
    proc, home = run(tmp_path, "absent")
    assert proc.returncode == 0, proc.stderr
    assert (home / "ENGINES.sha256").read_text().startswith("# absent")
    assert list((home / "binaries").iterdir()) == []


def test_an_unknown_mode_fails(tmp_path: Path) -> None:
    proc, _ = run(tmp_path, "maybe")
    assert proc.returncode != 0 and "must be bake or absent" in proc.stderr
