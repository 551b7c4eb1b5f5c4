"""The image as far as the Dockerfile alone determines it, as a `docker save` tarball for container-structure-test's
tar driver: the runtime stage's config (ENV, LABEL, USER, WORKDIR, ENTRYPOINT, CMD, EXPOSE, VOLUME, HEALTHCHECK) and
the files that reach the runtime stage from the build context (traced through `COPY --from=builder`).

It is not the built image: the base image layers and what RUN steps produce need a container builder. Tests of those
paths live in image/structure-tests-built.yaml and run against the real image where one is built.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import tarfile
from pathlib import Path
from typing import Any

from dockerfile_parse import DockerfileParser

DURATION = re.compile(r"^(\d+)(ms|s|m|h)$")
NANOS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


def stages(dockerfile: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """(stage name, instructions) per FROM."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for ins in DockerfileParser(path=str(dockerfile)).structure:
        if ins["instruction"] == "FROM":
            words = ins["value"].split()
            out.append((words[2] if len(words) > 2 and words[1].upper() == "AS" else words[0], []))
        elif out:
            out[-1][1].append(ins)
    return out


def _args(instructions: list[dict[str, Any]]) -> dict[str, str]:
    args = {}
    for ins in instructions:
        if ins["instruction"] == "ARG" and "=" in ins["value"]:
            key, _, value = ins["value"].partition("=")
            args[key.strip()] = value.strip()
    return args


def _pairs(value: str, args: dict[str, str]) -> dict[str, str]:
    for key, arg in args.items():
        value = value.replace("${" + key + "}", arg)
    return dict(word.split("=", 1) for word in shlex.split(value))


def _healthcheck(value: str) -> dict[str, Any]:
    options, _, command = value.partition("CMD")
    check: dict[str, Any] = {"Test": ["CMD", *json.loads(command.strip())]}
    for opt in shlex.split(options):
        key, _, raw = opt.lstrip("-").partition("=")
        if m := DURATION.match(raw):
            check[{"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod"}[key]] = (
                int(m[1]) * NANOS[m[2]]
            )
        elif key == "retries":
            check["Retries"] = int(raw)
    return check


def runtime_config(dockerfile: Path) -> dict[str, Any]:
    _, instructions = stages(dockerfile)[-1]
    args = _args(instructions)
    config: dict[str, Any] = {"Env": [], "Labels": {}, "ExposedPorts": {}, "Volumes": {}}
    for ins in instructions:
        kind, value = ins["instruction"], ins["value"]
        if kind == "ENV":
            config["Env"] += [f"{k}={v}" for k, v in _pairs(value, args).items()]
        elif kind == "LABEL":
            config["Labels"].update(_pairs(value, args))
        elif kind == "USER":
            config["User"] = value
        elif kind == "WORKDIR":
            config["WorkingDir"] = value
        elif kind in ("ENTRYPOINT", "CMD"):
            config["Entrypoint" if kind == "ENTRYPOINT" else "Cmd"] = json.loads(value)
        elif kind == "EXPOSE":
            config["ExposedPorts"].update({port if "/" in port else f"{port}/tcp": {} for port in value.split()})
        elif kind == "VOLUME":
            config["Volumes"].update({v: {} for v in json.loads(value)})
        elif kind == "HEALTHCHECK":
            config["Healthcheck"] = _healthcheck(value)
    return config


def context_files(dockerfile: Path, context: Path) -> dict[str, Path]:
    """Image path -> context file, for files COPY'd from the context into a stage and on into the runtime stage."""
    all_stages = stages(dockerfile)
    runtime = all_stages[-1][1]
    copied: dict[str, dict[str, Path]] = {}
    for name, instructions in all_stages:
        files: dict[str, Path] = {}
        for ins in instructions:
            if ins["instruction"] != "COPY" or "--from=" in ins["value"]:
                continue
            *sources, dest = shlex.split(ins["value"])
            for src in sources:
                path = context / src
                if path.is_file():
                    files[dest.rstrip("/") + "/" + path.name if dest.endswith("/") else dest] = path
        copied[name] = files
    out: dict[str, Path] = dict(copied[all_stages[-1][0]])
    for ins in runtime:
        value = ins["value"]
        if ins["instruction"] == "COPY" and value.startswith("--from="):
            words = value.split()
            stage = words[0].removeprefix("--from=")
            src, dest = [w for w in words[1:] if not w.startswith("--")]  # --chown=… and the like
            for path, source in copied.get(stage, {}).items():
                if path == src or path.startswith(src.rstrip("/") + "/"):
                    out[dest + path[len(src) :]] = source
    return out


def _layer(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for image_path in sorted(files):
            parts = image_path.strip("/").split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            data = files[image_path].read_bytes()
            info = tarfile.TarInfo(image_path.strip("/"))
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_skeleton(dockerfile: Path, context: Path, out: Path, tag: str = "gatekit-gateway:skeleton") -> Path:
    config = {"architecture": "amd64", "os": "linux", "config": runtime_config(dockerfile)}
    return write_single_layer_archive(out, _layer(context_files(dockerfile, context)), config, tag)


def write_single_layer_archive(out: Path, layer: bytes, config: dict[str, Any], tag: str) -> Path:
    """A `docker save`-format archive of one layer (what `podman load` reads); `config` gains that layer's rootfs."""
    config = {**config, "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
    manifest = [{"Config": "config.json", "RepoTags": [tag], "Layers": ["layer.tar"]}]
    with tarfile.open(out, "w") as tar:
        for name, data in (
            ("layer.tar", layer),
            ("config.json", json.dumps(config).encode()),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out
