"""What the gateway image gives every process it runs, read from image/Dockerfile's runtime stage (ENTRYPOINT, CMD,
ENV, USER, WORKDIR, VOLUME) and its requirement export command, so the rehearsal runs a process the way the image
would, not the way a test author remembers it."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_VENV = "/opt/gatekit/venv"
TINI = "/usr/bin/tini"


@dataclass(frozen=True)
class ImageFacts:
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    workdir: str = "/"
    volumes: tuple[str, ...] = ()
    export_args: tuple[str, ...] = ()  # `uv export` arguments of the runtime requirement set

    def uid_gid(self) -> tuple[int, int]:
        uid, _, gid = self.user.partition(":")
        return int(uid), int(gid or uid)


def _logical_lines(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return out


def _env_pairs(rest: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for token in shlex.split(rest):
        key, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"ENV form `{rest}` is not KEY=VALUE")
        pairs[key] = value
    return pairs


def read_image(dockerfile: Path) -> ImageFacts:
    lines = _logical_lines(dockerfile.read_text())
    stages = [i for i, ln in enumerate(lines) if ln.upper().startswith("FROM ")]
    if not stages:
        raise ValueError(f"{dockerfile}: no FROM")
    export_args: tuple[str, ...] = ()
    for line in lines:
        match = re.search(r"uv export (--frozen[^&]*?--output-file /build/requirements\.txt)", line)
        if match:
            words = shlex.split(match.group(1))
            export_args = tuple(w for w in words[: words.index("--output-file")])
    if not export_args:
        raise ValueError(f"{dockerfile}: no `uv export … --output-file /build/requirements.txt`")
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = {}
    user, workdir, volumes = "", "/", ()
    for line in lines[stages[-1] + 1 :]:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "ENTRYPOINT":
            entrypoint = tuple(json.loads(rest))
        elif word == "CMD":
            cmd = tuple(json.loads(rest))
        elif word == "ENV":
            env.update(_env_pairs(rest))
        elif word == "USER":
            user = rest.strip()
        elif word == "WORKDIR":
            workdir = rest.strip()
        elif word == "VOLUME":
            volumes = tuple(json.loads(rest))
    return ImageFacts(entrypoint, cmd, env, user, workdir, volumes, export_args)


def image_argv(facts: ImageFacts, entrypoint: list[str] | None, command: list[str] | None) -> tuple[str, ...]:
    """Docker semantics: a task's entryPoint replaces ENTRYPOINT (and drops CMD); its command replaces CMD."""
    if entrypoint is not None:
        return (*entrypoint, *(command or ()))
    return (*facts.entrypoint, *(command if command is not None else facts.cmd))
