"""`gatekit moat verify`: offline, exits 1 naming every missing, extra or altered file, or a bad signature."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.moat.conftest import alter_one_byte

# One worker builds, installs and runs the bundle once (pytest -n N --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("moat-bundle")]


def verify(bundle: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gatekit.cli", "moat", "verify", str(bundle), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def test_a_fresh_bundle_verifies_and_names_its_signer(moat_bundle):
    proc = verify(moat_bundle.path, "--trusted-key", str(moat_bundle.public_key))
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout and "signed by SHA256:" in proc.stdout


SAMPLE = [
    "wheelhouse/litellm-*.whl",
    "wheelhouse/gatekit-*.whl",
    "install",
    "bundle.json",
    "requirements/runtime.txt",
    "config/environments/moat.yaml",
    "gateway/litellm.yaml",
    "tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "iac/k8s/gateway.yaml",
    "sbom/runtime.cdx.json",
    "moat-signing.pub",
]


@pytest.mark.parametrize("pattern", SAMPLE)
def test_one_altered_byte_fails_and_names_the_file(bundle_copy, pattern):
    target = next(bundle_copy.glob(pattern))
    rel = target.relative_to(bundle_copy).as_posix()
    alter_one_byte(target)
    proc = verify(bundle_copy)
    assert proc.returncode == 1
    assert f"altered: {rel}" in proc.stderr.splitlines()


def test_altered_manifest_is_named(bundle_copy):
    manifest = bundle_copy / "MANIFEST"
    alter_one_byte(manifest, offset=len(manifest.read_bytes()) // 3)
    proc = verify(bundle_copy)
    assert proc.returncode == 1
    assert "altered: MANIFEST" in proc.stderr
    assert "bad signature: MANIFEST.sig does not verify MANIFEST" in proc.stderr


def test_altered_signature_is_named(bundle_copy):
    alter_one_byte(bundle_copy / "MANIFEST.sig", offset=3)
    proc = verify(bundle_copy)
    assert proc.returncode == 1
    assert "bad signature: MANIFEST.sig does not verify MANIFEST" in proc.stderr


def test_missing_and_extra_files_are_named(bundle_copy):
    (bundle_copy / "config" / "base.yaml").unlink()
    (bundle_copy / "wheelhouse" / "evil-1.0-py3-none-any.whl").write_bytes(b"PK")
    proc = verify(bundle_copy)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert "missing: config/base.yaml" in lines
    assert "extra: wheelhouse/evil-1.0-py3-none-any.whl" in lines


def test_a_bundle_signed_by_another_key_fails_against_the_trusted_key(moat_bundle, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    proc = verify(moat_bundle.path, "--trusted-key", str(other))
    assert proc.returncode == 1
    assert "is not the trusted key" in proc.stderr and "does not verify" in proc.stderr
