"""MANIFEST signed by an AWS KMS key. moto provides the key (create_key, get_public_key: spec, usage, DER public
key); moto 5 does not implement Sign with MessageType=DIGEST (it signs the digest as a raw message), which the
signer catches: a KMS answer that does not verify is never written. The DIGEST semantics themselves (ECDSA over the
SHA-256 that KMS receives) are exercised with a local P-256 key behind the same client interface, and the result is
checked with the OpenSSL command the runbook documents."""

from __future__ import annotations

import subprocess

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto import mock_aws

from gatekit.moat.manifest import verify_bundle, write_manifest
from gatekit.moat.signing import KmsSigner, SigningError
from tests.moat.trust_bundle import install, small_bundle


@pytest.fixture
def kms(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("kms", region_name="eu-west-1")


def test_kms_key_metadata_and_public_key_come_from_kms(kms):
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    signer = KmsSigner(key_id, client=kms)
    public = serialization.load_pem_public_key(signer.public_pem())
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    assert "ECC_NIST_P256" in signer.description


def test_a_kms_key_that_cannot_sign_is_refused(kms):
    key_id = kms.create_key(KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
    with pytest.raises(SigningError, match="SIGN_VERIFY"):
        KmsSigner(key_id, client=kms)


def test_a_kms_signature_that_does_not_verify_is_never_written(kms, tmp_path):
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "file").write_text("x" * 10_000)
    with pytest.raises(SigningError, match="does not verify against its public key"):
        write_manifest(tmp_path / "b", KmsSigner(key_id, client=kms))  # moto signs the digest as a raw message
    assert not (tmp_path / "b" / "MANIFEST.sig").exists()


class DigestSigningKms:
    """The KMS Sign/GetPublicKey contract for an ECC_NIST_P256 key with MessageType=DIGEST, over a local key."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.calls: list[dict] = []

    def get_public_key(self, KeyId: str) -> dict:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"KeyId": KeyId, "KeyUsage": "SIGN_VERIFY", "KeySpec": "ECC_NIST_P256", "PublicKey": der}

    def sign(self, KeyId: str, Message: bytes, MessageType: str, SigningAlgorithm: str) -> dict:
        self.calls.append({"MessageType": MessageType, "SigningAlgorithm": SigningAlgorithm, "len": len(Message)})
        assert MessageType == "DIGEST" and len(Message) == 32
        return {"Signature": self.key.sign(Message, ec.ECDSA(utils.Prehashed(hashes.SHA256())))}


def test_a_kms_signed_bundle_verifies_with_openssl_and_installs_past_the_signature(tmp_path):
    client = DigestSigningKms()
    signer = KmsSigner("alias/gatekit-moat-release", client=client)
    bundle = small_bundle(tmp_path / "bundle", 100, None)
    (bundle / "MANIFEST").unlink()
    write_manifest(bundle, signer)
    assert client.calls == [{"MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256", "len": 32}]
    trusted = tmp_path / "trusted.pub"
    trusted.write_bytes(signer.public_pem())
    cmd = ["openssl", "dgst", "-sha256", "-verify", str(trusted), "-signature", "MANIFEST.sig", "MANIFEST"]
    proc = subprocess.run(cmd, cwd=bundle, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "Verified OK" in proc.stdout
    assert verify_bundle(bundle, trusted).ok
    installed = install(bundle, tmp_path / "prefix", "--trusted-key", str(trusted))
    assert "signature OK: signed by SHA256:" in installed.stderr
