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


def _fake_build(absent: dict[str, str]):
    from gatekit.moat.build import BuildResult
    from gatekit.moat.components import Component

    def build_bundle(request, echo):
        result = BuildResult(request.out, wheels=3)
        result.components["tiktoken"] = Component("tiktoken", True, ["tiktoken/x"])
        for name, reason in absent.items():
            result.components[name] = Component(name, False, reason=reason)
        return result

    return build_bundle


def test_an_absent_component_fails_the_build_unless_allowed(tmp_path, monkeypatch):
    """The exit-status decision of `moat build` over a build result (the full build is tests/moat/conftest.py's)."""
    from click.testing import CliRunner

    from gatekit.cli import cli

    monkeypatch.setattr("gatekit.moat.build.build_bundle", _fake_build({"collector_image": "no registry"}))
    args = ["moat", "build", "--env", "moat", "--out", str(tmp_path / "b")]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1
    assert "incomplete bundle: collector_image absent" in refused.output
    allowed = CliRunner().invoke(cli, [*args, "--allow-absent", "collector_image"])
    assert allowed.exit_code == 0, allowed.output
    assert "absent collector_image (allowed): no registry" in allowed.output
    unknown = CliRunner().invoke(cli, [*args, "--allow-absent", "collector_image", "--allow-absent", "nonsense"])
    assert unknown.exit_code == 1 and "names no component: nonsense" in unknown.output
