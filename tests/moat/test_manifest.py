"""MANIFEST unit behaviour on a small bundle (no wheelhouse): unsigned self-check, signature, links."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gatekit.moat.manifest import verify_bundle, write_manifest
from tests.moat.conftest import alter_one_byte


@pytest.fixture
def small(tmp_path: Path) -> Path:
    root = tmp_path / "b"
    (root / "wheelhouse").mkdir(parents=True)
    (root / "wheelhouse" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel bytes" * 100)
    (root / "install").write_text("#!/bin/sh\necho install\n")
    return root


def _key(tmp_path: Path) -> Path:
    key = tmp_path / "k.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return key


def test_unsigned_manifest_names_itself_when_altered(small):
    write_manifest(small)
    assert verify_bundle(small).ok
    alter_one_byte(small / "MANIFEST", offset=5)
    result = verify_bundle(small)
    assert not result.ok
    assert any(line.startswith("altered: MANIFEST") for line in result.lines())


def test_manifest_is_sha256sum_compatible(small):
    import subprocess

    write_manifest(small)
    entries = "".join(line for line in (small / "MANIFEST").read_text().splitlines(True) if not line.startswith("#"))
    proc = subprocess.run(["sha256sum", "--check", "--strict", "-"], input=entries, cwd=small, text=True, check=False)
    assert proc.returncode == 0


def test_removing_the_signature_of_a_signed_bundle_fails(small, tmp_path):
    write_manifest(small, _key(tmp_path))
    assert verify_bundle(small).signed_by
    (small / "MANIFEST.sig").unlink()
    assert "MANIFEST.sig is missing" in " ".join(verify_bundle(small).lines())


def test_a_listed_file_replaced_by_a_link_is_altered(small, tmp_path):
    write_manifest(small)
    outside = tmp_path / "same.txt"
    outside.write_text("#!/bin/sh\necho install\n")
    (small / "install").unlink()
    (small / "install").symlink_to(outside)
    assert "altered: install" in verify_bundle(small).lines()


def test_a_missing_manifest_is_named(small):
    assert verify_bundle(small).lines() == ["missing: MANIFEST"]


def test_signing_key_must_be_a_kind_openssl_verifies(small, tmp_path):
    """Ed25519, ECDSA P-256 and RSA are accepted (the operator verifies with openssl); anything else is refused."""
    from cryptography.hazmat.primitives.asymmetric import dsa

    pem = dsa.generate_private_key(2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = tmp_path / "dsa.pem"
    key.write_bytes(pem)
    with pytest.raises(ValueError, match="Ed25519, ECDSA P-256 or RSA"):
        write_manifest(small, key)
