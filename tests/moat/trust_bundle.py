"""A small bundle with the real installer and a real MANIFEST/signature, for the installer's refusals (the full
bundle build takes minutes; the checks under test all run before the installer touches its wheelhouse)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gatekit.moat.manifest import write_manifest

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "runbooks" / "moat-install-upgrade.md"


def private_key(path: Path, kind: str = "ed25519") -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate() if kind == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = path.with_suffix(".pub")
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path, public


def small_bundle(root: Path, serial: int, sign_key: Path | None) -> Path:
    """install + bundle.json + a wheelhouse whose only wheel does not match its locked hash (so an install that gets
    past every check fails at pip: what a failed install leaves behind is then observable)."""
    root.mkdir(parents=True)
    shutil.copy2(REPO / "moat-mode" / "install", root / "install")
    (root / "bundle.json").write_text(json.dumps({"format": 1, "serial": serial, "environment": "moat"}))
    (root / "wheelhouse").mkdir()
    (root / "wheelhouse" / "gatekit-0.1.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    (root / "requirements").mkdir()
    (root / "requirements" / "runtime.txt").write_text("")
    (root / "requirements" / "gatekit.txt").write_text("gatekit==0.1.0 --hash=sha256:" + "0" * 64 + "\n")
    for part in ("config", "gateway"):
        (root / part).mkdir()
    (root / "gateway" / "offline.env").write_text("LITELLM_LOCAL_MODEL_COST_MAP=True\n")
    (root / "config" / "base.yaml").write_text("{}\n")
    write_manifest(root, sign_key)
    return root


def install(bundle: Path, prefix: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = ["sh", str(bundle / "install"), "--prefix", str(prefix), "--python", "python3.11", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)


def operator_check(bundle: Path, trusted_key: Path) -> subprocess.CompletedProcess[str]:
    """Step 1 of the runbook, exactly as written (the first executed block of `## Steps`)."""
    from tests.ops.runbook_blocks import blocks

    text = RUNBOOK.read_text()
    steps_at = text[: text.index("## Steps")].count("\n") + 1
    step = next(b for b in blocks(RUNBOOK) if b.line > steps_at and b.skip_reason is None)
    assert "openssl" in step.code and "sha256sum" in step.code, step.code
    env = {"PATH": "/usr/bin:/bin", "BUNDLE": str(bundle), "MOAT_TRUSTED_KEY": str(trusted_key)}
    script = "set -euo pipefail\n" + step.code
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False, env=env, timeout=120)
