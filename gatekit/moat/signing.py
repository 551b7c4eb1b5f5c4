"""Signing MANIFEST: a PEM private key on disk or an AWS KMS asymmetric key, and verification that needs nothing
from the bundle.

MANIFEST.sig holds the raw signature bytes, so the operator verifies it with OpenSSL before running anything from
the bundle (docs/moat-mode.md, runbooks/moat-install-upgrade.md):
    Ed25519 (PEM key):  openssl pkeyutl -verify -pubin -inkey TRUSTED.pub -rawin -in MANIFEST -sigfile MANIFEST.sig
    ECDSA P-256 / RSA:  openssl dgst -sha256 -verify TRUSTED.pub -signature MANIFEST.sig MANIFEST
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KMS_PREFIX = "kms:"
# KMS key specs a bundle can be signed with, and the signing algorithm used for each (over the SHA-256 digest).
KMS_ALGORITHMS = {
    "ECC_NIST_P256": "ECDSA_SHA_256",
    "RSA_2048": "RSASSA_PKCS1_V1_5_SHA_256",
    "RSA_3072": "RSASSA_PKCS1_V1_5_SHA_256",
    "RSA_4096": "RSASSA_PKCS1_V1_5_SHA_256",
}


class SigningError(ValueError):
    pass


class Signer(Protocol):
    description: str

    def public_pem(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


def _pem(public: Any) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass
class PemSigner:
    """Ed25519 (recommended), ECDSA P-256 or RSA private key in an unencrypted PEM file."""

    path: Path

    def __post_init__(self) -> None:
        try:
            key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as exc:
            raise SigningError(f"{self.path}: not an unencrypted PEM private key ({exc})") from None
        if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
            raise SigningError(f"{self.path}: EC signing keys must be P-256")
        if not isinstance(key, (Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise SigningError(f"{self.path}: the signing key must be Ed25519, ECDSA P-256 or RSA")
        self._key = key
        self.description = f"PEM key {self.path.name}"

    def public_pem(self) -> bytes:
        return _pem(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        key = self._key
        if isinstance(key, Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass
class KmsSigner:
    """An AWS KMS asymmetric SIGN_VERIFY key (ECC_NIST_P256 or RSA): the private half never leaves KMS. KMS signs
    the SHA-256 digest (MessageType=DIGEST: MANIFEST is larger than KMS's 4 KiB raw-message limit)."""

    key_id: str
    client: Any = None

    def __post_init__(self) -> None:
        if self.client is None:
            import boto3

            self.client = cast(Any, boto3).client("kms")  # boto3 ships no types: the client is Any here
        meta: dict[str, Any] = self.client.get_public_key(KeyId=self.key_id)
        spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
        if meta.get("KeyUsage") != "SIGN_VERIFY" or spec not in KMS_ALGORITHMS:
            raise SigningError(
                f"KMS key {self.key_id}: needs KeyUsage SIGN_VERIFY and one of {', '.join(KMS_ALGORITHMS)} (got {spec})"
            )
        self._algorithm = KMS_ALGORITHMS[spec]
        self._public = serialization.load_der_public_key(meta["PublicKey"])
        self.description = f"AWS KMS key {meta.get('KeyId', self.key_id)} ({spec})"

    def public_pem(self) -> bytes:
        return _pem(self._public)

    def sign(self, data: bytes) -> bytes:
        digest = hashlib.sha256(data).digest()
        reply = self.client.sign(
            KeyId=self.key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=self._algorithm
        )
        signature = bytes(reply["Signature"])
        try:
            verify(self.public_pem(), data, signature)  # a KMS answer that does not verify is never written
        except InvalidSignature:
            raise SigningError(
                f"{self.description}: the signature KMS returned does not verify against its public key"
            ) from None
        return signature


def open_signer(spec: str | Path) -> Signer:
    """`kms:<key id, ARN or alias>` or the path of a PEM private key."""
    text = str(spec)
    if text.startswith(KMS_PREFIX):
        return KmsSigner(text[len(KMS_PREFIX) :])
    return PemSigner(Path(text))


def verify(public_pem: bytes, data: bytes, signature: bytes) -> None:
    """Raise InvalidSignature (or SigningError for an unusable key) unless signature signs data."""
    try:
        public = serialization.load_pem_public_key(public_pem)
    except ValueError as exc:
        raise SigningError(f"not a PEM public key ({exc})") from None
    if isinstance(public, Ed25519PublicKey):
        public.verify(signature, data)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise SigningError(f"unsupported public key type {type(public).__name__}")


def openssl_command(public_pem: bytes, key: str = "TRUSTED.pub") -> str:
    """The OpenSSL command that verifies MANIFEST.sig with this kind of key (what the runbook tells operators)."""
    public = serialization.load_pem_public_key(public_pem)
    if isinstance(public, Ed25519PublicKey):
        return f"openssl pkeyutl -verify -pubin -inkey {key} -rawin -in MANIFEST -sigfile MANIFEST.sig"
    return f"openssl dgst -sha256 -verify {key} -signature MANIFEST.sig MANIFEST"


__all__ = ["InvalidSignature", "KmsSigner", "PemSigner", "Signer", "SigningError", "open_signer", "verify"]
