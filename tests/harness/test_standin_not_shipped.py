"""The Prisma engine stand-in is test-only: the image build never copies it and the gatekit wheel (the moat bundle's
gatekit) never packages it."""

from __future__ import annotations

import tomllib
from pathlib import PurePosixPath

from dockerfile_parse import DockerfileParser

from tests.conftest import REPO

STANDIN = PurePosixPath("tools/prisma-standin")


def _covers(source: str) -> bool:
    src = PurePosixPath(source.rstrip("/") or ".")
    return src == PurePosixPath(".") or src == STANDIN or STANDIN.is_relative_to(src) or src.is_relative_to(STANDIN)


def test_the_image_never_copies_the_standin() -> None:
    parser = DockerfileParser(path=str(REPO / "image" / "Dockerfile"))
    sources = []
    for instruction in parser.structure:
        if instruction["instruction"] not in ("COPY", "ADD"):
            continue
        args = [a for a in instruction["value"].split() if not a.startswith("--")]
        if "--from=" in instruction["value"]:
            continue  # from another build stage, not the build context
        sources += args[:-1]
    assert sources, "no COPY from the build context found: the parse is wrong"
    assert not [s for s in sources if _covers(s)], sources


def test_the_gatekit_wheel_never_packages_the_standin() -> None:
    hatch = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    packaged = [*hatch["packages"], *hatch.get("force-include", {}).keys()]
    assert not [p for p in packaged if _covers(p)], packaged
    assert not (REPO / "gatekit" / "rehearse" / "engine.js").exists()
