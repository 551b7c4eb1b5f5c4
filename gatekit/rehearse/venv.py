"""The rehearsal's gateway install: a fresh virtualenv with exactly the image's requirement export (the same `uv
export` arguments image/Dockerfile uses, read from it), installed with hashes and no dependency resolution, plus
gatekit's own wheel built from this checkout. Never the development .venv.

The requirement set is cached by the hash of the export (a changed lock means a new venv); the gatekit wheel is
rebuilt and reinstalled once per process that asks for it. Concurrent callers serialise on a lock file."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gatekit.moat.lock import find_uv, project_root
from gatekit.rehearse.image import read_image

CACHE_ENV = "GATEKIT_REHEARSAL_CACHE"
# The image's interpreter (Debian 12's python3.11, image/Dockerfile); also one the non-root uid can execute (a
# pyenv/uv-managed interpreter under /root cannot be).
IMAGE_PYTHON = "/usr/bin/python3.11"
_built: dict[Path, Path] = {}


class VenvError(RuntimeError):
    pass


@dataclass(frozen=True)
class GatewayVenv:
    root: Path
    requirements: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"


def cache_dir() -> Path:
    base = os.environ.get(CACHE_ENV)
    return Path(base) if base else project_root() / ".gatekit" / "rehearsal"


def _run(cmd: list[str], what: str, cwd: Path | None = None, timeout: float = 1800) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise VenvError(f"{what} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
    return proc.stdout


def _pip_install(venv: Path, args: list[str], what: str) -> None:
    """`uv pip install --no-deps` into `venv`: what gets installed is exactly what `args` name."""
    _run([find_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "--no-deps", *args], what)


def _readable(path: Path) -> None:
    """The gateway runs as the image's non-root uid: it must read (never write) the install."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            os.chmod(parent, mode | 0o005)
    _run(["chmod", "-R", "a+rX", str(path)], f"making {path} readable")


def export_requirements(root: Path, out: Path) -> Path:
    """`uv export` with the Dockerfile's own arguments."""
    facts = read_image(root / "image" / "Dockerfile")
    uv = find_uv()
    _run([uv, "export", *facts.export_args, "--output-file", str(out)], "uv export", cwd=root)
    return out


def gateway_venv(python: str | None = None) -> GatewayVenv:
    """The shared rehearsal venv (built on first use, then reused), with this checkout's gatekit wheel installed."""
    root = project_root()
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gatekit-export-") as tmp:
        exported = export_requirements(root, Path(tmp) / "requirements.txt")
        interpreter = python or IMAGE_PYTHON
        if not os.access(interpreter, os.X_OK):
            raise VenvError(
                f"the rehearsal needs the image's interpreter {interpreter} (Debian 12: apt install python3.11)"
            )
        digest = hashlib.sha256(exported.read_bytes() + interpreter.encode()).hexdigest()[:16]
        venv = cache / f"venv-{digest}"
        with open(cache / "venv.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if venv in _built:
                return GatewayVenv(venv, venv / "requirements.txt")
            if not (venv / ".complete").exists():
                _create(venv, exported, interpreter)
            if not (venv / ".prisma-generated").exists():
                _prisma_generate(venv)
            _install_gatekit(root, venv)
            _readable(venv)
            _built[venv] = venv
    return GatewayVenv(venv, venv / "requirements.txt")


def _create(venv: Path, exported: Path, python: str) -> None:
    uv = find_uv()
    if venv.exists():
        shutil.rmtree(venv)
    _run([uv, "venv", "--quiet", "--python", python, str(venv)], "creating the rehearsal venv")
    shutil.copy(exported, venv / "requirements.txt")
    _pip_install(
        venv,
        ["--require-hashes", "--only-binary", ":all:", "-r", str(venv / "requirements.txt")],
        "installing the image's requirement export",
    )
    (venv / ".complete").write_text("ok\n")


def _prisma_generate(venv: Path) -> None:
    """`prisma generate` over LiteLLM's schema, as image/Dockerfile does at build time (offline: the pinned Prisma
    CLI of tools/prisma-standin with the TEST-ONLY engine stand-in, see gatekit.rehearse.prisma_client)."""
    from gatekit.rehearse.prisma_client import generate

    generate(venv)
    (venv / ".prisma-generated").write_text("ok\n")


def _install_gatekit(root: Path, venv: Path) -> None:
    uv = find_uv()
    with tempfile.TemporaryDirectory(prefix="gatekit-wheel-") as dist:
        _run([uv, "build", "--quiet", "--wheel", "--out-dir", dist, str(root)], "building the gatekit wheel")
        wheels = sorted(Path(dist).glob("gatekit-*.whl"))
        if len(wheels) != 1:
            raise VenvError(f"expected one gatekit wheel, got {wheels}")
        # Unchanged source: keep the installed files (another session's gateways may be running from them).
        marker = venv / ".gatekit-wheel"
        digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
        if marker.exists() and marker.read_text().strip() == digest:
            return
        _pip_install(venv, ["--reinstall", str(wheels[0])], "installing the gatekit wheel")
        marker.write_text(digest + "\n")
