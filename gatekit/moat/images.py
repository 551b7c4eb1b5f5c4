"""Image archives for the isolated registry: the gateway image (built here with podman by scripts/image-build.sh, the
same `make image` build the tests run) and the ADOT collector image the ECS moat template references. Each archive is
present or absent with the reason; none is faked."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import IO

from gatekit.moat.components import Component, output_tail

GATEWAY_ARCHIVE = "images/gatekit-gateway.tar"
COLLECTOR_ARCHIVE = "images/collector.tar"
GATEWAY_SBOM = "sbom/gateway-image.cdx.json"
# What `publish-images` (moat-mode/publish-images) pushes: archive, tag, image config digest, one line each.
IMAGE_INDEX = "images/index.tsv"
PUBLISHER = "publish-images"
# The tag of the mirrored ADOT collector in the gateway repository (cdk/images.py reads it from here: one rule).


def _link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def gateway_archive(root: Path, bundle: Path) -> Component:
    script = root / "scripts" / "image-build.sh"
    if not script.is_file():
        return Component("gateway_image", False, reason=f"{script} is not part of this checkout")
    if shutil.which("podman") is None:
        return Component("gateway_image", False, reason="podman is not installed on the build host (make system)")
    proc = subprocess.run(["bash", str(script)], cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return Component("gateway_image", False, reason=f"scripts/image-build.sh failed: {output_tail(proc.stderr)}")
    state = Path(os.environ.get("GATEKIT_IMAGE_STATE", root / ".image"))
    ref, archive, sbom = (state / "gateway.ref").read_text().split()
    _link_or_copy(Path(archive), bundle / GATEWAY_ARCHIVE)
    _link_or_copy(Path(sbom), bundle / GATEWAY_SBOM)
    return Component(
        "gateway_image", True, [GATEWAY_ARCHIVE, GATEWAY_SBOM], details={"ref": ref, "format": "docker-archive"}
    )


def collector_archive(root: Path, bundle: Path, image: str) -> Component:
    """The collector is mirrored, not built: it must already be in the project-local image store (on a connected
    build host: `source scripts/image-env.sh && podman pull IMAGE`), else it is absent with that instruction."""
    if shutil.which("podman") is None:
        return Component("collector_image", False, reason="podman is not installed on the build host")
    env = _podman_env(root)
    exists = subprocess.run(["podman", "image", "exists", image], env=env, capture_output=True, check=False)
    if exists.returncode != 0:
        return Component(
            "collector_image",
            False,
            reason=f"{image} is not in the local image store (mirror it first: source scripts/image-env.sh && "
            f"podman pull {image}); no registry is reachable from this build host",
        )
    dest = bundle / COLLECTOR_ARCHIVE
    dest.parent.mkdir(parents=True, exist_ok=True)
    save = ["podman", "save", "--format", "docker-archive", "-o", str(dest), image]
    proc = subprocess.run(save, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return Component("collector_image", False, reason=f"podman save failed: {output_tail(proc.stderr)}")
    return Component("collector_image", True, [COLLECTOR_ARCHIVE], details={"ref": image})


def _podman_env(root: Path) -> dict[str, str]:
    state = Path(os.environ.get("GATEKIT_IMAGE_STATE", root / ".image"))
    return {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": str(state / "storage.conf"),
        "CONTAINERS_CONF": str(state / "containers.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(state / "registries.conf"),
    }


def archive_config_digest(archive: Path) -> str:
    """The image digest that survives a push unchanged: sha256 of the docker-archive's config (the image ID). The
    registry's manifest digest depends on how the pushing tool compresses the layers; the config never changes."""
    with tarfile.open(archive) as tar:
        entries = json.load(_member(tar, "manifest.json"))
        if len(entries) != 1:
            raise ValueError(f"{archive}: expected one image in manifest.json, found {len(entries)}")
        config = _member(tar, entries[0]["Config"]).read()
    return "sha256:" + hashlib.sha256(config).hexdigest()


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    handle = tar.extractfile(name)
    if handle is None:
        raise ValueError(f"{tar.name}: {name} is not a file")
    return handle


def write_image_index(bundle: Path, tags: dict[str, str]) -> Component:
    """images/index.tsv for `publish-images`: every present archive (bundle-relative path -> tag) with its image
    digest, and the publisher script itself. Absent when the bundle carries no archive."""
    if not tags:
        return Component("image_publish", False, reason="the bundle carries no image archive to publish")
    lines = ["# archive\ttag\timage config digest (publish-images checks each before pushing)"]
    lines += [f"{archive}\t{tag}\t{archive_config_digest(bundle / archive)}" for archive, tag in sorted(tags.items())]
    (bundle / IMAGE_INDEX).write_text("\n".join(lines) + "\n")
    return Component("image_publish", True, [IMAGE_INDEX, PUBLISHER], details={"tags": dict(sorted(tags.items()))})
