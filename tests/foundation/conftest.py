from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's config/ to break on purpose."""
    dst = tmp_path / "config"
    shutil.copytree(REPO / "config", dst)
    return dst
