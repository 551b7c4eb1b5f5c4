"""Session fixtures: one bundle build, one offline install and one offline gateway run per test session.

The build needs the network (PyPI, via pip's cache when warm); the install and the gateway run happen in a network
namespace with only loopback (`unshare -n`), traced with `strace -e trace=connect`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("netns_driver.py")
RUNBOOK = REPO / "runbooks" / "moat-install-upgrade.md"
IMAGE_REF = "registry.internal/gatekit-gateway@sha256:" + "5" * 64
BUILD_SETS = (f"compute.image={IMAGE_REF}", "gateway.config_sync.uri=s3://moat-config/gatekit/config.yaml")
# No registry is reachable from this build host, so the ADOT collector cannot be mirrored into the bundle: allowed
# explicitly (without it `gatekit moat build` exits non-zero), and the bundle records why.
ALLOW_ABSENT = ("collector_image",)
DRILL_MASTER_KEY = "sk-drill-master-" + "7" * 24


@dataclass
class Bundle:
    path: Path
    public_key: Path
    log: str

    def metadata(self) -> dict[str, Any]:
        return json.loads((self.path / "bundle.json").read_text())


@dataclass
class Install:
    prefix: Path
    trace: str
    log: str


@dataclass
class GatewayRun:
    outcome: dict[str, Any]
    trace: str
    log: str


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="session")
def moat_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    work = tmp_path_factory.mktemp("moat-build")
    key = Ed25519PrivateKey.generate()
    key_file = work / "signing.key"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = work / "trusted.pub"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    out = work / "bundle"
    cmd = [sys.executable, "-m", "gatekit.cli", "moat", "build", "--env", "moat", "--out", str(out)]
    cmd += ["--sign-key", str(key_file), *[a for s in BUILD_SETS for a in ("--set", s)]]
    cmd += [a for name in ALLOW_ABSENT for a in ("--allow-absent", name)]
    # No $UV: `gatekit moat build` finds the checkout's hashed uv itself.
    env = {k: v for k, v in os.environ.items() if k != "UV"}
    proc = _run(cmd, cwd=REPO, timeout=1800, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Bundle(out, public, proc.stdout + proc.stderr)


def _in_netns(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run cmd in a fresh network namespace whose only interface is loopback (brought up first)."""
    script = 'ip link set lo up && exec "$@"'
    return _run(["unshare", "--net", "sh", "-c", script, "netns", *cmd], timeout=timeout, env=env)


def clean_environ() -> dict[str, str]:
    """This process's environment without gatekit/LiteLLM settings: the installed launcher's env file decides."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GATEKIT_", "LITELLM_")) or k.startswith("GATEKIT_TEST_")
    }


@pytest.fixture(scope="session")
def moat_install(moat_bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Install:
    """The runbook's executed blocks (runbooks/moat-install-upgrade.md), offline and traced: the install drill."""
    from tests.ops.runbook_blocks import blocks, script

    work = tmp_path_factory.mktemp("moat-install")
    prefix, trace, drill = work / "gatekit", work / "install.strace", work / "drill.sh"
    drill.write_text(script(blocks(RUNBOOK)))
    env = {
        **clean_environ(),
        "BUNDLE": str(moat_bundle.path),
        "GATEKIT_PREFIX": str(prefix),
        "MOAT_TRUSTED_KEY": str(moat_bundle.public_key),
        # The secrets the runbook's step 3 expects from the operator's secret store.
        "GATEKIT_SECRET_MASTER_KEY": DRILL_MASTER_KEY,
        "LITELLM_SALT_KEY": "sk-drill-salt-" + "3" * 16,
        "GATEKIT_SECRET_INTERNAL_LLM_KEY": "sk-drill-internal-" + "4" * 16,
    }
    strace = ["strace", "-f", "--seccomp-bpf", "-e", "trace=connect", "-o", str(trace)]
    proc = _in_netns([*strace, "bash", str(drill)], timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return Install(prefix, trace.read_text(), proc.stdout + proc.stderr)


@pytest.fixture(scope="session")
def moat_gateway(moat_install: Install) -> GatewayRun:
    trace = moat_install.prefix.parent / "gateway.strace"
    env = clean_environ()
    proc = _run(
        ["unshare", "--net", sys.executable, str(DRIVER), str(moat_install.prefix), str(trace), "4000", "4010"],
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gateway_log = trace.with_suffix(".gateway.log")
    log = gateway_log.read_text(errors="replace") if gateway_log.exists() else ""
    return GatewayRun(json.loads(proc.stdout.strip().splitlines()[-1]), trace.read_text(), log)


@pytest.fixture
def bundle_copy(moat_bundle: Bundle, tmp_path: Path) -> Path:
    """A hard-linked copy of the bundle: cheap, and a test that alters a file replaces it (never edits the link)."""
    copy = tmp_path / "bundle"
    shutil.copytree(moat_bundle.path, copy, copy_function=os.link)
    return copy


def alter_one_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.unlink()  # break the hard link: the session bundle stays intact
    path.write_bytes(bytes(data))
