"""The image's requirement export is the runtime set every target needs, made with one set of flags: the Dockerfile's
`uv export` commands are exactly gatekit.moat.lock's (which the moat bundle runs), and the set they export contains
what a GKE replica imports at start (google-cloud-storage for the `gcs` config source)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from gatekit.moat.lock import REQUIREMENTS_FLAGS, SBOM_FLAGS, find_uv
from tests.image.oci_skeleton import stages

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "image" / "Dockerfile"


def dockerfile_exports() -> dict[str, tuple[str, ...]]:
    """`--output-file` target -> the other flags of each `uv export` in the builder stage."""
    runs = " ".join(i["value"] for i in stages(DOCKERFILE)[0][1] if i["instruction"] == "RUN")
    out: dict[str, tuple[str, ...]] = {}
    for command in re.findall(r"uv export ([^&]+)", runs):
        words = shlex.split(command.replace("\\\n", " "))
        at = words.index("--output-file")
        out[words[at + 1]] = tuple(words[:at] + words[at + 2 :])
    return out


def test_the_dockerfile_exports_with_the_lock_modules_flags():
    exports = dockerfile_exports()
    assert exports == {"/build/requirements.txt": REQUIREMENTS_FLAGS, "/build/sbom.cdx.json": SBOM_FLAGS}


@pytest.fixture(scope="module")
def exported() -> str:
    proc = subprocess.run(
        [find_uv(), "export", *REQUIREMENTS_FLAGS, "--project", str(REPO)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return proc.stdout


def _names(requirements: str) -> set[str]:
    """Names pip would install (a `sys_platform == 'never'` marker, uv's way to keep a pin unused, never is)."""
    lines = re.finditer(r"^([A-Za-z0-9_.-]+)==([^\n]*)", requirements, re.M)
    return {m.group(1).lower() for m in lines if "sys_platform == 'never'" not in m.group(2)}


def test_the_runtime_set_has_every_config_source_client(exported: str):
    names = _names(exported)
    assert "google-cloud-storage" in names  # GKE: the `gcs` source (before: absent, pods exited at start)
    assert {"azure-storage-blob", "azure-identity", "boto3"} <= names  # AKS and AWS sources
    assert "--hash=sha256:" in exported


def test_build_tools_stay_out_of_the_runtime_set(exported: str):
    names = _names(exported)
    assert not names & {"aws-cdk-lib", "pulumi", "pulumi-gcp", "torch", "pytest", "moto"}
