"""The arm64 (aarch64) wheelhouse variant, decided from uv.lock alone: every runtime requirement that applies on
Linux aarch64 has a locked, hashed wheel for it (nothing builds from source). Downloading it (`gatekit moat
wheelhouse --arch aarch64`) needs the package index and is not part of the suite; docs/moat-mode.md records the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.moat.lock import export_runtime_requirements
from gatekit.moat.platforms import coverage, parse_requirements, pip_platform_args, variant_requirements
from tests.moat.conftest import REPO


@pytest.fixture(scope="module")
def runtime_set(tmp_path_factory: pytest.TempPathFactory) -> str:
    dest = tmp_path_factory.mktemp("platforms") / "runtime.txt"
    export_runtime_requirements(REPO, dest)
    return dest.read_text()


@pytest.mark.parametrize("arch", ["aarch64", "x86_64"])
def test_every_runtime_requirement_has_a_locked_wheel(runtime_set: str, arch: str) -> None:
    found = coverage(runtime_set, REPO / "uv.lock", arch)
    assert found.complete, f"no {arch} wheel: {found.missing}"
    applicable = len(parse_requirements(runtime_set)) - len(found.not_needed)
    assert len(found.wheels) == applicable > 100
    other = "x86_64" if arch == "aarch64" else "aarch64"
    native = [w for w in found.wheels.values() if "-none-any" not in w and "-none-manylinux" not in w]
    assert native and all(arch in w and other not in w for w in native), native
    # The platform markers are decided for the target: pywin32 and the training stack are not installed anywhere.
    assert "pywin32==312" in found.not_needed and any(r.startswith("torch==") for r in found.not_needed)


def test_the_arm64_variant_differs_where_wheels_are_native(runtime_set: str) -> None:
    arm = coverage(runtime_set, REPO / "uv.lock", "aarch64").wheels
    intel = coverage(runtime_set, REPO / "uv.lock", "x86_64").wheels
    assert arm.keys() == intel.keys()
    native = {req for req in arm if arm[req] != intel[req]}
    assert {"pydantic-core", "tokenizers", "cryptography"} <= {req.split("==")[0] for req in native}


def test_a_requirement_without_an_aarch64_wheel_is_named(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    wheels = {
        "onlyintel": ("1.0", "cp311-cp311-manylinux_2_17_x86_64", "a"),
        "pure": ("2.0", "py3-none-any", "b"),
        "winonly": ("3.0", "cp311-cp311-win_amd64", "c"),
        "newglibc": ("4.0", "cp311-cp311-manylinux_2_39_aarch64", "d"),
    }
    lock.write_text(
        "version = 1\n"
        + "".join(
            f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
            f'wheels = [{{ url = "https://files.example/{name}-{version}-{tags}.whl", hash = "sha256:{h * 64}" }}]\n'
            for name, (version, tags, h) in wheels.items()
        )
    )
    requirements = (
        f"onlyintel==1.0 \\\n    --hash=sha256:{'a' * 64}\n"
        f"pure==2.0 \\\n    --hash=sha256:{'b' * 64}\n"
        f"winonly==3.0 ; sys_platform == 'win32' \\\n    --hash=sha256:{'c' * 64}\n"
        f"newglibc==4.0 \\\n    --hash=sha256:{'d' * 64}\n"
    )
    found = coverage(requirements, lock, "aarch64")
    assert not found.complete
    assert set(found.missing) == {"onlyintel==1.0", "newglibc==4.0"}  # glibc 2.39 > Debian 12's 2.36
    assert found.wheels == {"pure==2.0": "pure-2.0-py3-none-any.whl"}
    assert found.not_needed == ["winonly==3.0"]
    assert set(coverage(requirements, lock, "x86_64").missing) == {"newglibc==4.0"}
    # A hash the requirement does not allow serves nothing, even with the right tags.
    tampered = requirements.replace("b" * 64, "e" * 64)
    assert "pure==2.0" in coverage(tampered, lock, "aarch64").missing


def test_variant_requirements_keep_hashes_and_decide_markers(runtime_set: str) -> None:
    found = coverage(runtime_set, REPO / "uv.lock", "aarch64")
    text = variant_requirements(runtime_set, found)
    assert ";" not in text  # markers decided for the target (pip would evaluate them against its own interpreter)
    variant = {f"{r.name}=={r.version}": r for r in parse_requirements(text)}
    original = {f"{r.name}=={r.version}": r for r in parse_requirements(runtime_set)}
    assert variant.keys() == found.wheels.keys()
    assert all(variant[k].hashes == original[k].hashes and variant[k].hashes for k in variant)
    assert "async-timeout==5.0.1" in variant  # python_full_version < '3.11.3': Debian 12 runs 3.11.2
    args = pip_platform_args("aarch64")
    assert args[:2] == ["--platform", "manylinux_2_36_aarch64"] and "manylinux2014_aarch64" in args
    assert args[-6:] == ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]


def test_wheelhouse_check_only_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "arm64"
    result = CliRunner().invoke(cli, ["moat", "wheelhouse", "--arch", "aarch64", "--out", str(out), "--check-only"])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "wheelhouse.json").read_text())
    assert record["arch"] == "aarch64" and len(record["wheels"]) > 100
    assert not (out / "wheelhouse").exists()
    assert "--hash=sha256:" in (out / "requirements" / "runtime.txt").read_text()
