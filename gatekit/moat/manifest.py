"""MANIFEST: the SHA-256 of every file of a bundle, a self-check line, and a signature (raw bytes in MANIFEST.sig,
verifiable with OpenSSL: gatekit/moat/signing.py) whose public key travels with the bundle as a convenience only -
the operator verifies against the key received out of band.

Format (sha256sum-compatible lines, so `sha256sum -c` also works on the entries):
    # gatekit moat bundle manifest v1
    <64 hex>  <relative path>
    ...
    # manifest-sha256 <64 hex of every byte above this line>
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from gatekit.moat.lock import sha256_file
from gatekit.moat.signing import Signer, SigningError, open_signer, verify

MANIFEST = "MANIFEST"
SIGNATURE = "MANIFEST.sig"
PUBLIC_KEY = "moat-signing.pub"
HEADER = "# gatekit moat bundle manifest v1\n"
TRAILER = "# manifest-sha256 "
UNLISTED = frozenset({MANIFEST, SIGNATURE})


def bundle_files(root: Path) -> list[str]:
    """Every regular file under root (relative, '/'-separated, sorted), MANIFEST and its signature excluded."""
    files: list[str] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink() or not path.is_file():
            if path.is_symlink():
                files.append(rel)  # listed so verification reports it: bundles carry no links
            continue
        if rel not in UNLISTED:
            files.append(rel)
    return sorted(files)


def render_manifest(root: Path, files: list[str]) -> str:
    body = HEADER + "".join(f"{sha256_file(root / rel)}  {rel}\n" for rel in files)
    return body + TRAILER + hashlib.sha256(body.encode()).hexdigest() + "\n"


def write_manifest(root: Path, signer: Signer | Path | str | None = None) -> Path:
    """Write MANIFEST (and MANIFEST.sig + the public key when a signer is given: a PEM path or `kms:KEY`)."""
    if signer is not None and isinstance(signer, (str, Path)):
        signer = open_signer(signer)
    if signer is not None:
        (root / PUBLIC_KEY).write_bytes(signer.public_pem())
    text = render_manifest(root, bundle_files(root))
    (root / MANIFEST).write_text(text)
    if signer is not None:
        (root / SIGNATURE).write_bytes(signer.sign(text.encode()))
    return root / MANIFEST


def load_private_key(path: Path) -> Signer:
    """Open a PEM signing key (kept for callers that validate a key early)."""
    return open_signer(path)


def fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, to compare out of band (`openssl pkey -pubin -in KEY -outform DER |
    sha256sum` prints the same hex)."""
    key = serialization.load_pem_public_key(public_pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + hashlib.sha256(der).hexdigest()


@dataclass
class Verification:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)  # problems with the signature, empty when fine or unsigned
    signed_by: str | None = None  # fingerprint of the key that signed a valid signature
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.altered or self.signature)

    def lines(self) -> list[str]:
        out = [f"missing: {p}" for p in self.missing]
        out += [f"extra: {p}" for p in self.extra]
        out += [f"altered: {p}" for p in self.altered]
        out += [f"bad signature: {p}" for p in self.signature]
        return out


def _parse(text: str, result: Verification) -> dict[str, str]:
    entries: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    trailer = lines[-1] if lines else ""
    body = "".join(lines[:-1])
    if not (text.startswith(HEADER) and trailer.startswith(TRAILER)):
        result.altered.append(f"{MANIFEST} (header or self-check line damaged)")
    elif hashlib.sha256(body.encode()).hexdigest() != trailer[len(TRAILER) :].strip():
        result.altered.append(f"{MANIFEST} (its content does not match its self-check line)")
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        digest, sep, rel = line.rstrip("\n").partition("  ")
        if not sep or len(digest) != 64 or not rel:
            if f"{MANIFEST} (unreadable line)" not in result.altered:
                result.altered.append(f"{MANIFEST} (unreadable line)")
            continue
        entries[rel] = digest
    return entries


def _check_signature(root: Path, manifest: bytes, trusted_key: Path | None, result: Verification) -> None:
    sig_path, key_path = root / SIGNATURE, root / PUBLIC_KEY
    if not sig_path.is_file():
        if trusted_key is not None or key_path.is_file():
            result.signature.append(f"{SIGNATURE} is missing (the bundle carries a key or a trusted key was given)")
        return
    key_pem = trusted_key.read_bytes() if trusted_key is not None else None
    if key_pem is None:
        if not key_path.is_file():
            result.signature.append(f"{SIGNATURE} present but {PUBLIC_KEY} is missing")
            return
        key_pem = key_path.read_bytes()
    elif key_path.is_file() and key_path.read_bytes() != key_pem:
        result.signature.append(f"{PUBLIC_KEY} is not the trusted key {trusted_key}")
    try:
        verify(key_pem, manifest, sig_path.read_bytes())
        result.signed_by = fingerprint(key_pem)
    except (InvalidSignature, SigningError, ValueError) as exc:
        result.signature.append(f"{SIGNATURE} does not verify {MANIFEST} ({type(exc).__name__})")


def verify_bundle(root: Path, trusted_key: Path | None = None) -> Verification:
    """Check every file against MANIFEST, look for files MANIFEST does not list, and check the signature."""
    result = Verification()
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        result.missing.append(MANIFEST)
        return result
    raw = manifest_path.read_bytes()
    entries = _parse(raw.decode("utf-8", errors="replace"), result)
    on_disk = set(bundle_files(root))
    for rel, digest in sorted(entries.items()):
        path = root / rel
        if rel not in on_disk:
            result.missing.append(rel)
        elif path.is_symlink() or sha256_file(path) != digest:
            result.altered.append(rel)
        result.checked += 1
    result.extra = sorted(on_disk - set(entries))
    _check_signature(root, raw, trusted_key, result)
    return result
