"""What an isolated AWS account needs beyond the templates: the pinned AWS CDK CLI (the npm tarball of package.json's
aws-cdk, checked against package-lock.json's integrity) and the CDK bootstrap template that CLI prints, both produced
on the connected build host and carried in the bundle. Present or absent with the reason; never faked."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from gatekit.moat.components import Component, output_tail

BOOTSTRAP = "iac/cdk/bootstrap-template.yaml"


def _pinned_cli(root: Path) -> tuple[str, str]:
    version = json.loads((root / "package.json").read_text())["devDependencies"]["aws-cdk"]
    lock = json.loads((root / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/aws-cdk"]
    if entry["version"] != version:
        raise ValueError(f"package.json pins aws-cdk {version}, package-lock.json has {entry['version']}")
    return version, entry["integrity"]


def cdk_cli(root: Path, bundle: Path) -> Component:
    for tool in ("npm", "node"):
        if shutil.which(tool) is None:
            return Component("cdk_cli", False, reason=f"{tool} is not installed on the build host (make system)")
    try:
        version, integrity = _pinned_cli(root)
    except (OSError, KeyError, ValueError) as exc:
        return Component("cdk_cli", False, reason=f"no pinned aws-cdk in package.json/package-lock.json: {exc}")
    dest = bundle / "tools" / f"aws-cdk-{version}.tgz"
    with tempfile.TemporaryDirectory(prefix="gatekit-cdk-cli-") as tmp:
        pack = ["npm", "pack", f"aws-cdk@{version}", "--pack-destination", tmp, "--silent"]
        proc = subprocess.run(pack, capture_output=True, text=True, check=False, timeout=600)
        tgz = Path(tmp) / f"aws-cdk-{version}.tgz"
        if proc.returncode != 0 or not tgz.is_file():
            return Component("cdk_cli", False, reason=f"npm pack failed: {output_tail(proc.stderr or proc.stdout)}")
        algorithm, _, expected = integrity.partition("-")
        actual = base64.b64encode(hashlib.new(algorithm, tgz.read_bytes()).digest()).decode()
        if actual != expected:
            return Component("cdk_cli", False, reason=f"aws-cdk {version}: integrity mismatch with package-lock.json")
        with tarfile.open(tgz) as archive:
            archive.extractall(Path(tmp) / "x", filter="data")
        show = ["node", str(Path(tmp) / "x" / "package" / "bin" / "cdk"), "bootstrap", "--show-template"]
        proc = subprocess.run(show, capture_output=True, text=True, check=False, timeout=600, cwd=tmp)
        if proc.returncode != 0 or "AWS::" not in proc.stdout:
            return Component(
                "cdk_cli", False, reason=f"cdk bootstrap --show-template failed: {output_tail(proc.stderr)}"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tgz, dest)
        (bundle / BOOTSTRAP).parent.mkdir(parents=True, exist_ok=True)
        (bundle / BOOTSTRAP).write_text(proc.stdout)
    paths = [dest.relative_to(bundle).as_posix(), BOOTSTRAP]
    return Component("cdk_cli", True, paths, details={"version": version, "integrity": integrity})
