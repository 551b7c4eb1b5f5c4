"""`gatekit moat build` refuses what it cannot build, with a clean message (no network needed)."""

from __future__ import annotations

import subprocess
import sys

from tests.moat.conftest import REPO


def build(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gatekit.cli", "moat", "build", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False, timeout=120)


def test_an_environment_that_is_not_moat_is_refused(tmp_path):
    proc = build("--env", "local", "--out", str(tmp_path / "b"))
    assert proc.returncode == 1
    assert "target `local`; a moat bundle needs target `moat`" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "b").exists()


def test_a_non_empty_output_directory_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("operator data")
    proc = build("--env", "moat", "--out", str(tmp_path))
    assert proc.returncode == 1
    assert "exists and is not empty" in proc.stderr
    assert (tmp_path / "keep.txt").read_text() == "operator data"


def test_a_signing_key_that_is_not_ed25519_is_refused_before_any_download(tmp_path):
    key = tmp_path / "rsa.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    proc = build("--env", "moat", "--out", str(tmp_path / "b"), "--sign-key", str(key))
    assert proc.returncode == 1
    assert "not an unencrypted PEM private key" in proc.stderr
