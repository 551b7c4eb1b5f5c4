"""One lock, three consumers: the hashed runtime requirement set exported from uv.lock, the wheelhouse downloaded
from it, and gatekit's own wheel. `make` setup, the image and the moat bundle all install from this same set."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Extras of pyproject.toml that belong to the gateway at run time (`gcp`: the GCS config source GKE replicas read
# at start). cdk, pulumi, train and dev are build/test tools.
RUNTIME_EXTRAS: tuple[str, ...] = ("gcp",)
# The `uv export` flags of the runtime set: image/Dockerfile runs exactly these (tests/image checks it), and so do
# the moat bundle and the rehearsal's venv.
EXPORT_FLAGS: tuple[str, ...] = ("--frozen", "--no-dev", *(a for extra in RUNTIME_EXTRAS for a in ("--extra", extra)))
REQUIREMENTS_FLAGS: tuple[str, ...] = (*EXPORT_FLAGS, "--no-emit-project", "--no-header", "--no-annotate")
SBOM_FLAGS: tuple[str, ...] = (*EXPORT_FLAGS, "--format", "cyclonedx1.5", "--preview-features", "sbom-export")


class LockError(RuntimeError):
    """A step of the lock -> wheelhouse chain failed; the message says which and why."""


def project_root(start: Path | None = None) -> Path:
    """The directory holding pyproject.toml and uv.lock (the current directory or a parent)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "uv.lock").is_file() and (candidate / "pyproject.toml").is_file():
            return candidate
    raise LockError(f"no uv.lock + pyproject.toml in {here} or its parents (run from the gatekit checkout)")


# Where `make setup` installs the hash-pinned uv (tools/uv-requirements.txt), relative to the checkout.
CHECKOUT_UV = Path(".venv-uv") / "bin" / "uv"


def find_uv(root: Path | None = None) -> str:
    """$UV, else the checkout's own uv (`make setup`), else `uv` on PATH, else the uv next to this interpreter: no
    environment variable is needed."""
    checkout = root or _checkout()
    checkout_uv = str(checkout / CHECKOUT_UV) if checkout is not None else None
    candidates = (os.environ.get("UV"), checkout_uv, shutil.which("uv"), str(Path(sys.executable).with_name("uv")))
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise LockError(f"uv not found: run `make setup` (it installs {CHECKOUT_UV}), set $UV, or put uv on PATH")


def _checkout() -> Path | None:
    try:
        return project_root()
    except LockError:
        return None


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-3000:]
        raise LockError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def export_runtime_requirements(root: Path, dest: Path) -> int:
    """Write the runtime requirement set with every hash from uv.lock; returns the number of requirements."""
    cmd = [find_uv(root), "export", *REQUIREMENTS_FLAGS, "--project", str(root)]
    text = _run(cmd, "exporting the runtime requirements from uv.lock")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    return sum(1 for line in text.splitlines() if line and not line[0].isspace() and not line.startswith("#"))


def sbom_export(root: Path) -> str:
    """CycloneDX 1.5 JSON of the runtime set, from uv.lock (uv's `sbom-export` preview feature)."""
    cmd = [find_uv(root), "export", *SBOM_FLAGS, "--project", str(root)]
    return _run(cmd, "exporting the CycloneDX SBOM from uv.lock")


def download_wheelhouse(requirements: Path, wheelhouse: Path, arch: str | None = None) -> list[Path]:
    """Download exactly the locked wheels (hash-checked, binary only: an sdist-only package is an error). `arch`
    (x86_64, aarch64): the wheels for that Linux architecture (gatekit.moat.platforms), else this host's."""
    from gatekit.moat.platforms import pip_platform_args

    wheelhouse.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
        "--require-hashes", "--only-binary=:all:", "--no-deps", "-r", str(requirements), "-d", str(wheelhouse),
    ]  # fmt: skip
    if arch is not None:
        cmd += pip_platform_args(arch)
    try:
        _run(cmd, "downloading the wheelhouse (pip download --require-hashes --only-binary=:all:)")
    except LockError as exc:
        if "No matching distribution" in str(exc):
            raise LockError(f"{exc}\nA locked package has no wheel for this platform (sdist only?).") from None
        raise
    wheels = sorted(wheelhouse.glob("*.whl"))
    strays = sorted(p.name for p in wheelhouse.iterdir() if p.suffix != ".whl")
    if strays:
        raise LockError(f"non-wheel files in the wheelhouse (an sdist slipped in?): {', '.join(strays)}")
    return wheels


def build_gatekit_wheel(root: Path, out_dir: Path) -> Path:
    """Build gatekit's own wheel (installed --no-deps after the locked set) and move it into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    backend = root / "tools" / "build-requirements.txt"
    if not backend.is_file():
        raise LockError(f"{backend} is missing: the build backend is installed from it, hash-checked")
    with tempfile.TemporaryDirectory(prefix="gatekit-wheel-") as tmp:
        # The build backend (hatchling) hash-checked into its own venv; uv never resolves one on its own.
        venv = Path(tmp) / "backend"
        _run([sys.executable, "-m", "venv", str(venv)], "creating the build-backend venv")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
        _run([*pip, "--require-hashes", "--only-binary=:all:", "-r", str(backend)], "installing the build backend")
        # uv build also writes a .gitignore into its out dir: build aside, keep only the wheel.
        dist = Path(tmp) / "dist"
        cmd = [find_uv(root), "build", "--wheel", "--no-build-isolation", "--python", str(venv / "bin" / "python")]
        _run([*cmd, "--out-dir", str(dist), str(root)], "building the gatekit wheel")
        built = sorted(dist.glob("gatekit-*.whl"))
        if len(built) != 1:
            raise LockError(f"uv build produced {len(built)} gatekit wheels, expected one")
        return Path(shutil.move(built[0], out_dir / built[0].name))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_gatekit_requirement(wheel: Path, dest: Path) -> None:
    """A one-line hashed requirement for gatekit itself, so its install is hash-checked too."""
    name, version = wheel.name.split("-")[:2]
    dest.write_text(f"{name}=={version} --hash=sha256:{sha256_file(wheel)}\n")
