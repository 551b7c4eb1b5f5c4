"""Wheelhouse variants per CPU architecture: which locked wheel serves each runtime requirement on Linux x86_64 or
aarch64 (CPython 3.11, glibc 2.17 to 2.36: Debian 12, the image's base), decided from uv.lock alone (every wheel
of every locked version is listed there with its hash), and the `pip download` switches that fetch exactly that
variant. A requirement with no wheel for the architecture is named, never built from source."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

PYTHON = (3, 11)
PYTHON_FULL = "3.11.2"  # Debian 12's python3.11: the image's interpreter and the moat VM's
GLIBC_MAX = 36  # Debian 12 (the image's base and the moat VM precondition)
ARCHITECTURES = ("x86_64", "aarch64")
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


LEGACY_ALIASES = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


def platform_tags(arch: str) -> list[str]:
    """pip/PyPI platform tags a Debian 12 host of this architecture accepts, in pip's order (newest glibc first,
    each legacy alias right after its glibc version; aarch64 wheels start at glibc 2.17)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unsupported architecture {arch!r}: one of {', '.join(ARCHITECTURES)}")
    oldest = 5 if arch == "x86_64" else 17
    tags: list[str] = []
    for minor in range(GLIBC_MAX, oldest - 1, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in LEGACY_ALIASES:
            tags.append(f"{LEGACY_ALIASES[minor]}_{arch}")
    return tags


def supported_tags(arch: str) -> dict[Tag, int]:
    """Every tag this platform accepts, with its rank (0 is preferred): pip's own order for the same switches."""
    platforms = platform_tags(arch)
    abi = f"cp{PYTHON[0]}{PYTHON[1]}"
    ordered = [*cpython_tags(PYTHON, abis=[abi], platforms=platforms), *compatible_tags(PYTHON, abi, platforms)]
    ranks: dict[Tag, int] = {}
    for rank, tag in enumerate(ordered):
        ranks.setdefault(tag, rank)
    return ranks


def pip_platform_args(arch: str) -> list[str]:
    """`pip download` switches for another architecture's wheels (binary only: pip requires it with --platform)."""
    args = [a for tag in platform_tags(arch) for a in ("--platform", tag)]
    version = f"{PYTHON[0]}.{PYTHON[1]}"
    return [*args, "--python-version", version, "--implementation", "cp", "--abi", f"cp{PYTHON[0]}{PYTHON[1]}"]


def marker_environment(arch: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "python_version": f"{PYTHON[0]}.{PYTHON[1]}",
        "python_full_version": PYTHON_FULL,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": arch,
    }


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str
    marker: str | None
    hashes: frozenset[str]


def parse_requirements(text: str) -> list[Requirement]:
    """The `uv export` format: `name==version [; marker] \\` then `--hash=sha256:…` lines."""
    found: list[Requirement] = []
    current: tuple[str, str, str | None] | None = None
    hashes: set[str] = set()
    for line in [*text.splitlines(), "#end"]:
        stripped = line.strip()
        if not stripped or stripped.startswith("--hash"):
            hashes.update(HASH.findall(stripped))
            continue
        if current is not None:
            found.append(Requirement(*current, frozenset(hashes)))
            current, hashes = None, set()
        if stripped.startswith("#"):
            continue
        match = REQUIREMENT.match(stripped)
        if match is None:
            raise ValueError(f"not a pinned requirement line: {stripped!r}")
        current = (str(canonicalize_name(match[1])), match[2], match[3])
    return found


@dataclass
class Coverage:
    arch: str
    wheels: dict[str, str] = field(default_factory=dict)  # requirement -> the wheel file that serves it
    missing: dict[str, str] = field(default_factory=dict)  # requirement -> why no wheel serves it
    not_needed: list[str] = field(default_factory=list)  # requirements whose marker excludes this platform

    @property
    def complete(self) -> bool:
        return not self.missing


def coverage(requirements: str, lock: Path, arch: str) -> Coverage:
    """For every requirement of the exported runtime set that applies on Linux `arch`: the locked wheel (its hash
    among the requirement's hashes) whose tags this platform accepts, or why there is none."""
    supported = supported_tags(arch)
    environment = marker_environment(arch)
    locked: dict[tuple[str, str], list[dict[str, str]]] = {}
    for package in tomllib.loads(lock.read_text())["package"]:
        key = (str(canonicalize_name(package["name"])), str(package["version"]))
        locked[key] = list(package.get("wheels", []))
    result = Coverage(arch)
    for requirement in parse_requirements(requirements):
        label = f"{requirement.name}=={requirement.version}"
        if requirement.marker and not Marker(requirement.marker).evaluate(environment):
            result.not_needed.append(label)
            continue
        wheels = locked.get((requirement.name, requirement.version))
        if wheels is None:
            result.missing[label] = "not in uv.lock"
            continue
        match = _best_wheel(wheels, requirement.hashes, supported)
        if match is None:
            result.missing[label] = f"no locked wheel for cp311 manylinux {arch} (sdist only, or other platforms)"
        else:
            result.wheels[label] = match
    return result


def _best_wheel(wheels: list[dict[str, str]], hashes: frozenset[str], supported: dict[Tag, int]) -> str | None:
    """The wheel pip would choose: among the locked wheels whose hash the requirement allows, the best-ranked tag."""
    best: tuple[int, str] | None = None
    for wheel in wheels:
        filename = wheel["url"].rsplit("/", 1)[-1]
        if wheel["hash"].removeprefix("sha256:") not in hashes:
            continue
        try:
            tags = parse_wheel_filename(filename)[3]
        except InvalidWheelFilename:
            continue
        ranks = [supported[tag] for tag in tags if tag in supported]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), filename)
    return best[1] if best else None


def variant_requirements(requirements: str, found: Coverage) -> str:
    """The runtime set for this platform alone: the requirements that apply there, markers decided (pip would
    evaluate them against the interpreter running it, not the target), with their hashes."""
    lines: list[str] = []
    for requirement in parse_requirements(requirements):
        label = f"{requirement.name}=={requirement.version}"
        if label in found.wheels:
            lines.append(f"{label} \\")
            lines += [f"    --hash=sha256:{digest} \\" for digest in sorted(requirement.hashes)]
            lines[-1] = lines[-1].removesuffix(" \\")
    return "\n".join(lines) + "\n"


def write_variant(requirements: Path, lock: Path, arch: str, dest: Path) -> Coverage:
    """Decide the runtime set for Debian 12 on `arch` and write it (markers decided, hashes kept) to dest, for
    `pip download`: pip would evaluate the markers against the interpreter running it (a Python 3.11.7 build host
    would leave out async-timeout, which Debian's 3.11.2 installs). Raises ValueError naming what has no wheel."""
    text = requirements.read_text()
    found = coverage(text, lock, arch)
    if not found.complete:
        missing = ", ".join(f"{label} ({reason})" for label, reason in sorted(found.missing.items()))
        raise ValueError(f"no {arch} wheel for: {missing}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(variant_requirements(text, found))
    return found
