"""The image `make image` really built (podman, scripts/image-build.sh): container-structure-test on it, and the
image run as production runs it - read-only root, every capability dropped, no network - through ready -> chat
(`auto`) -> stream -> 401 -> SIGTERM drain, exit 0."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from tests.image.built import REPO, built_image, podman
from tests.image.test_image import structure_test_configs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("built-image")]

CONFIGS = [REPO / "image" / n for n in ("structure-tests.yaml", "structure-tests-built.yaml")]
PRISMA = REPO / "image" / "structure-tests-prisma.yaml"
PROBE = Path(__file__).with_name("run_probe.py")


@pytest.fixture(scope="module")
def image():
    return built_image()


@pytest.fixture(scope="module")
def labels(image) -> dict[str, str]:
    inspect = json.loads(podman("image", "inspect", image.ref).stdout)[0]
    return inspect["Config"]["Labels"] or inspect["Labels"]


def test_structure_tests_pass_on_the_built_image(image, labels):
    configs = [*CONFIGS, PRISMA] if labels.get("dev.gatekit.prisma-engines") == "bake" else CONFIGS
    report = structure_test_configs(image.archive, configs)
    assert report["returncode"] == 0, [r for r in report.get("Results", []) if not r.get("Pass")]
    assert report["Pass"] == report["Total"] >= 30 and report["Fail"] == 0


def test_prisma_structure_test_checks_engine_files_not_a_directory(image, labels):
    """This machine cannot reach the Prisma engines host: the image says so, has the (empty) directory, and the
    engine structure test fails on it - an empty /opt/prisma/binaries no longer passes."""
    if labels.get("dev.gatekit.prisma-engines") == "bake":
        pytest.fail("built with engines: test_structure_tests_pass_on_the_built_image ran the engine config")
    assert labels.get("dev.gatekit.prisma-engines") == "absent"
    report = structure_test_configs(image.archive, [PRISMA])
    failed = {r["Name"] for r in report["Results"] if not r["Pass"]}
    assert report["returncode"] != 0
    assert any("Prisma query engine (the file, executable)" in name for name in failed), failed


def test_image_labels_record_version_revision_and_inputs(labels):
    assert labels["org.opencontainers.image.title"] == "gatekit-gateway"
    assert len(labels["dev.gatekit.inputs"]) == 16
    assert "deprecated" not in labels["org.opencontainers.image.base.name"]
    assert "python3-debian12" not in labels["org.opencontainers.image.base.name"]


@pytest.fixture(scope="module")
def run(image, tmp_path_factory):
    """One hardened run of the image: serve (the image's CMD) + the demo provider, the probe, then SIGTERM."""
    name = f"gatekit-image-test-{secrets.token_hex(4)}"
    key = "sk-image-" + secrets.token_hex(12)
    podman("secret", "rm", name, check=False)
    podman("secret", "create", name, "-", input=key)  # the master key reaches the container as a podman secret
    cmd = ["run", "--detach", "--name", name, "--read-only", "--cap-drop=all", "--security-opt=no-new-privileges"]
    cmd += ["--network=none", "--ulimit=host", "--tmpfs=/tmp:rw,size=512m", "--tmpfs=/var/lib/gatekit:rw,size=64m"]
    cmd += [f"--secret={name},type=env,target=GATEKIT_MASTER_KEY", image.ref, "serve", "--env", "local"]
    try:
        podman(*cmd)
        podman("exec", "--detach", name, "/opt/gatekit/venv/bin/gatekit", "mock-llm", "--port", "4010")
        probe = podman(
            "exec", "--env", f"PROBE_KEY={key}", name, "/opt/gatekit/venv/bin/python", "-c", PROBE.read_text(),
            timeout=600, check=False,
        )  # fmt: skip
        inspect_before = json.loads(podman("inspect", name).stdout)[0]
        podman("stop", "--time", "90", name, timeout=180)
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        logs = podman("logs", name).stdout + podman("logs", name).stderr
    finally:
        podman("rm", "--force", name, check=False)
        podman("secret", "rm", name, check=False)
    outcome = json.loads(probe.stdout.strip().splitlines()[-1]) if probe.stdout.strip() else {}
    return {"probe": outcome, "probe_rc": probe.returncode, "probe_err": probe.stderr[-3000:], "state": state,
            "logs": logs, "key": key, "config": inspect_before}  # fmt: skip


def test_runs_read_only_without_capabilities_or_network(run):
    host = run["config"]["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["NetworkMode"] == "none"
    assert set(host["CapDrop"] or []) >= {"CAP_NET_RAW", "CAP_CHOWN", "CAP_SETUID"} and not host["CapAdd"]
    assert run["config"]["Config"]["User"] == "65532:65532"


def test_ready_then_chat_via_auto(run):
    probe = run["probe"]
    assert run["probe_rc"] == 0 and "ready_seconds" in probe, run["probe_err"] + run["logs"][-3000:]
    assert probe["chat"]["status"] == 200, probe["chat"]
    assert "gatekit demo provider" in probe["chat"]["body"]["choices"][0]["message"]["content"]


def test_stream_finishes(run):
    assert run["probe"]["stream_status"] == 200
    assert run["probe"]["stream"]["done"] is True and run["probe"]["stream"]["chunks"] >= 2


def test_bad_key_is_refused(run):
    assert run["probe"]["bad_key_status"] == 401


def test_sigterm_drains_and_exits_zero(run):
    assert run["state"]["ExitCode"] == 0, run["logs"][-3000:]
    assert run["state"].get("OOMKilled") is False


def test_the_master_key_never_reaches_the_logs(run):
    assert run["key"] not in run["logs"]


def test_sbom_lists_what_is_really_in_the_image(image):
    bom = json.loads(image.sbom.read_text())
    names = {c["name"]: c for c in bom["components"]}
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5"
    for os_package in ("libc6", "libssl3", "python3.11-minimal", "libpython3.11-stdlib", "tini", "ca-certificates"):
        assert names[os_package]["purl"].startswith(f"pkg:deb/debian/{os_package}@"), os_package
    for python_package in ("litellm", "gatekit", "prisma", "uvicorn"):
        assert names[python_package]["purl"].startswith("pkg:pypi/"), python_package
    # Platform markers honoured: what pip really installed, never what a lock merely mentions.
    assert not {"torch", "pywin32", "nvidia-cublas-cu12", "triton"} & set(names)
    assert "prisma-engines" in names or any(n.startswith("prisma-query-engine") for n in names)
