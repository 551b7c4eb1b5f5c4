"""The built image's final filesystem read from its docker-archive, and a projection of it for container-structure-test.

container-structure-test's tar driver unpacks the whole image (~0.9 GB, ~33,000 files) before it tests anything:
minutes on a busy 2-core machine. The tests only look at the paths their configs name, so the projection is a
one-layer docker-archive holding exactly those entries as the image has them (same bytes, modes, owners, symlinks;
the directories and symlinks on the way to them), under the image's real config (labels, user, env, entrypoint…).
A path the image does not have is absent from the projection too, so every shouldExist / content / permission test
answers as it would on the full image.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from tests.image.oci_skeleton import write_single_layer_archive

Index = dict[str, tuple[str, tarfile.TarInfo]]  # path in the image -> (layer file in the archive, its tar entry)


def image_index(archive: Path) -> Index:
    """Every entry of the image's final filesystem: layers applied in order, whiteouts honoured."""
    index: Index = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                for member in inner:
                    name = member.name.removeprefix("./").strip("/")
                    parent, _, base = name.rpartition("/")
                    if base == ".wh..wh..opq":
                        index = {p: e for p, e in index.items() if not p.startswith(parent + "/")}
                    elif base.startswith(".wh."):
                        gone = f"{parent}/{base[4:]}" if parent else base[4:]
                        index = {p: e for p, e in index.items() if p != gone and not p.startswith(gone + "/")}
                    elif name:
                        index[name] = (layer, member)
    return index


def _reach(index: Index, path: str) -> list[str]:
    """The entries a lookup of `path` touches: each directory and symlink on the way (links followed inside the
    image), then the path itself if it exists."""
    touched: list[str] = []
    todo = [p for p in path.strip("/").split("/") if p]
    done: list[str] = []
    hops = 0
    while todo:
        current = "/".join([*done, todo.pop(0)])
        entry = index.get(current)
        if entry is None:
            return touched  # absent: the projection lacks it as the image does
        touched.append(current)
        info = entry[1]
        if info.issym() and hops < 40:
            hops += 1
            target = info.linkname
            joined = target if target.startswith("/") else posixpath.join("/", *done, target)
            todo = [p for p in posixpath.normpath(joined).strip("/").split("/") if p] + todo
            done = []
        else:
            done = current.split("/")
    return touched


def config_paths(configs: list[Path]) -> set[str]:
    """Every path a container-structure-test config names (file existence and content tests)."""
    paths: set[str] = set()
    for config in configs:
        doc = yaml.safe_load(config.read_text())
        for kind in ("fileExistenceTests", "fileContentTests"):
            paths.update(test["path"] for test in doc.get(kind) or [])
    return paths


def write_projection(archive: Path, index: Index, paths: set[str], out: Path) -> Path:
    """A docker-archive of `paths` (and what reaching them touches) under the image's own config."""
    wanted = sorted({p for path in paths for p in _reach(index, path)})
    # Parent directories first, as the image has them.
    names = sorted({"/".join(p.split("/")[:i]) for p in wanted for i in range(1, p.count("/") + 2)})
    layer = io.BytesIO()
    with (
        tarfile.open(archive) as outer,
        tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ExitStack() as stack,
    ):
        manifest = json.load(outer.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        config: dict[str, Any] = json.load(outer.extractfile(manifest["Config"]))  # type: ignore[arg-type]
        layers = {n: stack.enter_context(tarfile.open(fileobj=outer.extractfile(n))) for n in manifest["Layers"]}
        for name in names:
            if name not in index:
                continue
            layer_name, info = index[name]
            copy = tarfile.TarInfo(name)
            for field in ("type", "mode", "uid", "gid", "uname", "gname", "mtime", "linkname", "size"):
                setattr(copy, field, getattr(info, field))
            data = None
            if info.isfile() or info.islnk():  # a hard link becomes the file it names (its bytes, this entry's mode)
                data = layers[layer_name].extractfile(info).read()  # type: ignore[union-attr]
                copy.type, copy.linkname, copy.size = tarfile.REGTYPE, "", len(data)
            tar.addfile(copy, io.BytesIO(data) if data is not None else None)
    config.pop("history", None)
    return write_single_layer_archive(out, layer.getvalue(), config, "gatekit-gateway:projection")
