"""The hardened image, without a container builder: hadolint on image/Dockerfile, container-structure-test (tar
driver) on the image skeleton the Dockerfile determines, and the Dockerfile's own invariants."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from gatekit.render.offline import OFFLINE_ENV
from tests.image.oci_skeleton import runtime_config, stages, write_skeleton

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "image" / "Dockerfile"
STRUCTURE = REPO / "image" / "structure-tests.yaml"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    assert Path(found).is_file(), f"{name} is not installed (make setup installs it)"
    return found


def structure_test(image_tar: Path) -> dict:
    return structure_test_configs(image_tar, [STRUCTURE])


def structure_test_configs(image_tar: Path, configs: list[Path]) -> dict:
    cmd = [tool("container-structure-test"), "test", "--driver", "tar", "--image", str(image_tar)]
    cmd += [a for c in configs for a in ("--config", str(c))] + ["--output", "json", "--no-color"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["returncode"] = proc.returncode
    return report


def test_hadolint_is_clean():
    proc = subprocess.run([tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == ""


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    proc = subprocess.run([tool("hadolint"), str(bad)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # `latest` tag


def test_structure_tests_pass_on_the_dockerfile_skeleton(tmp_path):
    report = structure_test(write_skeleton(DOCKERFILE, REPO, tmp_path / "image.tar"))
    assert report["returncode"] == 0, report
    assert report["Pass"] == report["Total"] >= 3 and report["Fail"] == 0


def test_structure_tests_fail_when_the_dockerfile_drifts(tmp_path):
    drifted = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text().replace("USER 65532:65532", "USER root")
    drifted.write_text(text.replace("    LITELLM_LOCAL_MODEL_COST_MAP=True \\\n", ""))
    report = structure_test(write_skeleton(drifted, REPO, tmp_path / "image.tar"))
    assert report["returncode"] != 0 and report["Fail"] >= 1


def test_base_images_are_pinned_by_digest():
    text = DOCKERFILE.read_text()
    images = re.findall(r"^ARG \w+_IMAGE=(\S+)$", text, re.M)
    assert len(images) == 2 and all(DIGEST.search(i) for i in images), images
    names = [name for name, _ in stages(DOCKERFILE)]
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert all(f.startswith("${") or f in names for f in froms), froms


def test_runtime_stage_has_no_shell_and_runs_non_root():
    name, instructions = stages(DOCKERFILE)[-1]
    kinds = [i["instruction"] for i in instructions]
    assert name == "runtime" and "RUN" not in kinds and "SHELL" not in kinds
    for ins in instructions:
        if ins["instruction"] in ("ENTRYPOINT", "CMD"):
            assert ins["value"].startswith("["), f"{ins['instruction']} must be exec form"
    config = runtime_config(DOCKERFILE)
    assert config["Healthcheck"]["Test"][0] == "CMD" and config["Healthcheck"]["Test"][1].startswith("/opt/gatekit/")
    assert config["Entrypoint"][0] == "/usr/bin/tini"
    uid, _, gid = config["User"].partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit()
    assert set(config["Volumes"]) == {"/tmp", "/var/lib/gatekit"}
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["GATEKIT_RUNTIME_DIR"] in config["Volumes"]


def test_dependencies_come_only_from_the_hashed_wheelhouse():
    builder = " ".join(i["value"] for i in stages(DOCKERFILE)[0][1] if i["instruction"] == "RUN")
    assert "uv export --frozen --no-dev" in builder and "--no-emit-project" in builder
    assert "--format cyclonedx1.5" in builder
    installs = re.findall(r"pip (?:install|download)[^&]*", builder)
    assert len(installs) >= 4
    for command in installs:
        hashed = "--require-hashes" in command
        own_wheel = "--no-index" in command and "gatekit-*.whl" in command
        assert hashed or own_wheel, command
        if "/opt/gatekit/venv/bin/pip install" in command:
            assert "--no-index" in command, command
    assert "prisma-engines.sh" in builder  # the Prisma step (prisma generate; tests/image/test_prisma_engines.py)
    assert "prisma generate" in (REPO / "image" / "prisma-engines.sh").read_text()


def test_image_env_carries_every_offline_switch():
    env = dict(e.split("=", 1) for e in runtime_config(DOCKERFILE)["Env"])
    assert {k: env.get(k) for k in OFFLINE_ENV} == OFFLINE_ENV


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health/liveliness" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("up", [True, False])
def test_health_probe_needs_no_shell_and_reports_liveness(up):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    if up:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    else:
        server.server_close()
    try:
        proc = subprocess.run(
            [sys.executable, str(REPO / "image" / "healthcheck.py")],
            env={"GATEKIT_HEALTH_PORT": str(port)},
            check=False,
            timeout=30,
        )
    finally:
        if up:
            server.shutdown()
            server.server_close()
    assert proc.returncode == (0 if up else 1)


def test_the_image_is_built_to_the_container_contract():
    """USER, VOLUME, EXPOSE, ENTRYPOINT, CMD, the runtime dir and the health check: exactly what every deployment
    renders from gatekit.render.container (ECS task, Kubernetes pod, rehearsal)."""
    from gatekit.render import container

    config = runtime_config(DOCKERFILE)
    assert config["User"] == f"{container.UID}:{container.GID}"
    assert set(config["Volumes"]) == {w.path for w in container.WRITABLE_PATHS}
    assert set(config["ExposedPorts"]) == {f"{container.IMAGE_PORT}/tcp"}
    assert tuple(config["Entrypoint"]) == container.ENTRYPOINT
    assert tuple(config["Cmd"]) == container.GATEWAY_ARGS
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["GATEKIT_RUNTIME_DIR"] == container.RUNTIME_DIR
    assert env["HOME"].startswith("/tmp") and env["XDG_CACHE_HOME"].startswith("/tmp")  # under a writable path
    assert tuple(config["Healthcheck"]["Test"][1:]) == container.HEALTHCHECK
    structure = yaml.safe_load(STRUCTURE.read_text())["metadataTest"]
    assert structure["user"] == config["User"]
    assert structure["entrypoint"] == list(container.ENTRYPOINT)
    assert structure["cmd"] == list(container.GATEWAY_ARGS)
    assert set(structure["volumes"]) == set(config["Volumes"])
    assert structure["exposedPorts"] == [str(container.IMAGE_PORT)]
