"""Safe router artifacts: JSON + safetensors, a manifest with the SHA-256 of every file, nothing executable.

Layout (a directory, or the same keys under an s3:// prefix):
  manifest.json        format, strategy, tiers, encoder fingerprint, trainer, files: {name: sha256}, version
  router.json          hyper-parameters and labels (plain JSON)
  weights.safetensors  the arrays (safetensors: a JSON header plus raw little-endian buffers; no code paths)

`version` is derived from the file checksums, so the same bytes always carry the same version everywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
from safetensors.numpy import load as load_tensors
from safetensors.numpy import save as save_tensors

FORMAT = "gatekit-router/1"
MANIFEST = "manifest.json"
ROUTER_JSON = "router.json"
WEIGHTS = "weights.safetensors"
FILES = (ROUTER_JSON, WEIGHTS)


class ArtifactError(RuntimeError):
    """An artifact that is missing, malformed or fails its checksums. Never served."""


@dataclass(frozen=True)
class Artifact:
    strategy: str
    tiers: list[str]
    params: dict[str, Any]
    arrays: dict[str, np.ndarray]
    manifest: dict[str, Any]
    uri: str = ""

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def encoder_fingerprint(self) -> str | None:
        enc: dict[str, Any] = self.manifest.get("encoder") or {}
        return enc.get("fingerprint")


@dataclass
class ArtifactFiles:
    """Raw bytes of an artifact, as fetched from a directory or a bucket."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    uri: str = ""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(files: Mapping[str, str]) -> str:
    return sha256(json.dumps(dict(sorted(files.items())), separators=(",", ":")).encode())[:16]


def build_files(
    strategy: str,
    tiers: list[str],
    params: dict[str, Any],
    arrays: dict[str, np.ndarray],
    encoder: Mapping[str, Any],
    trainer: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, bytes]:
    router = json.dumps({"strategy": strategy, "tiers": tiers, "params": params}, indent=2, sort_keys=True).encode()
    weights = save_tensors({k: np.ascontiguousarray(v) for k, v in arrays.items()}) if arrays else save_tensors({})
    blobs = {ROUTER_JSON: router, WEIGHTS: weights}
    checksums = {name: sha256(data) for name, data in blobs.items()}
    manifest = {
        "format": FORMAT,
        "strategy": strategy,
        "tiers": tiers,
        "encoder": dict(encoder),
        "trainer": trainer,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": checksums,
        "version": _version(checksums),
        **dict(extra or {}),
    }
    blobs[MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    return blobs


def write_artifact(out_dir: Path, blobs: Mapping[str, bytes]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (*FILES, MANIFEST):  # manifest last: a watcher never sees a manifest before its files
        tmp = out_dir / f".{name}.tmp"
        tmp.write_bytes(blobs[name])
        tmp.replace(out_dir / name)
    return out_dir


def parse(files: ArtifactFiles) -> Artifact:
    """Verify every checksum and the version, then decode. Raises ArtifactError on any problem."""
    where = files.uri or "artifact"
    if MANIFEST not in files.blobs:
        raise ArtifactError(f"{where}: no {MANIFEST}")
    try:
        loaded: Any = json.loads(files.blobs[MANIFEST])
    except ValueError as exc:
        raise ArtifactError(f"{where}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(loaded, dict) or cast("dict[str, Any]", loaded).get("format") != FORMAT:
        raise ArtifactError(f"{where}: not a {FORMAT} manifest")
    manifest = cast("dict[str, Any]", loaded)
    listed_value: Any = manifest.get("files")
    if not isinstance(listed_value, dict) or set(cast("dict[str, Any]", listed_value)) != set(FILES):
        raise ArtifactError(f"{where}: manifest must list exactly {', '.join(FILES)}")
    listed = cast("dict[str, Any]", listed_value)
    for name, expected in listed.items():
        if name not in files.blobs:
            raise ArtifactError(f"{where}: {name} is missing")
        actual = sha256(files.blobs[name])
        if actual != expected:
            raise ArtifactError(
                f"{where}: checksum mismatch for {name} (manifest {expected[:12]}…, file {actual[:12]}…)"
            )
    if manifest.get("version") != _version(listed):
        raise ArtifactError(f"{where}: manifest version does not match its checksums")
    try:
        router: Any = json.loads(files.blobs[ROUTER_JSON])
        arrays = load_tensors(files.blobs[WEIGHTS])
    except Exception as exc:  # safetensors raises its own error types for malformed headers
        raise ArtifactError(f"{where}: cannot decode ({type(exc).__name__}: {exc})") from None
    if router.get("strategy") != manifest.get("strategy") or router.get("tiers") != manifest.get("tiers"):
        raise ArtifactError(f"{where}: router.json and manifest disagree on strategy or tiers")
    return Artifact(
        strategy=str(manifest["strategy"]),
        tiers=list(manifest["tiers"]),
        params=dict(router.get("params") or {}),
        arrays=dict(arrays),
        manifest=manifest,
        uri=files.uri,
    )
