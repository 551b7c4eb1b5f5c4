"""The image `make image` built (scripts/image-build.sh): where it is, and podman with the project-local state."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("GATEKIT_IMAGE_STATE", REPO / ".image"))


@dataclass
class BuiltImage:
    ref: str
    archive: Path
    sbom: Path


def built_image() -> BuiltImage:
    """The image of this checkout's inputs; fails (never skips) when `make image` did not run."""
    ref_file = STATE / "gateway.ref"
    assert ref_file.is_file(), f"{ref_file} is missing: run `make image` first (make test does)"
    ref, archive, sbom = ref_file.read_text().split()
    assert Path(archive).is_file() and Path(sbom).is_file(), f"{archive} or its SBOM is missing: run `make image`"
    return BuiltImage(ref, Path(archive), Path(sbom))


def podman_env() -> dict[str, str]:
    """The environment scripts/image-env.sh sets: vfs storage, runc, cgroupfs, all under .image/."""
    assert shutil.which("podman"), "podman is not installed (make system installs it)"
    return {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": str(STATE / "storage.conf"),
        "CONTAINERS_CONF": str(STATE / "containers.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(STATE / "registries.conf"),
        "TMPDIR": str(STATE / "tmp"),
    }


def podman(*args: str, timeout: float = 300, check: bool = True, **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=podman_env(), timeout=timeout, check=False, **kwargs
    )
    if check:
        assert proc.returncode == 0, f"podman {' '.join(args[:3])} … failed: {proc.stderr[-2000:]}"
    return proc
