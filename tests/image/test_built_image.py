"""The image `make image` really builds (podman, scripts/image-build.sh), tested as built and as the platforms run it.

The build is the one the moat bundle ships (gatekit.moat.images calls the same cached script; whichever comes first
builds, the other finds it up to date). Then: container-structure-test on the saved archive, nothing TEST-ONLY inside,
and one hardened run - read-only root, every capability dropped, uid 65532, no network but loopback, `--ulimit host`,
runc, the master key as a podman secret - through ready -> HEALTHCHECK healthy -> chat via `auto` -> stream ->
401 -> SIGTERM with a stream in flight: the stream finishes, the process drains and exits 0."""

from __future__ import annotations

import json
import secrets
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekit.render import container
from tests.image.built import REPO, built_image, podman
from tests.image.projection import config_paths, image_index, write_projection
from tests.image.test_image import structure_test_configs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2700), pytest.mark.xdist_group("built-image")]

CONFIGS = [REPO / "image" / n for n in ("structure-tests.yaml", "structure-tests-built.yaml")]
PRISMA = REPO / "image" / "structure-tests-prisma.yaml"
PROBE = Path(__file__).with_name("run_probe.py")
# What tools/prisma-standin (TEST-ONLY query-engine stand-in) would leave in an image if it ever got in.
STANDIN_MARKERS = ("prisma-standin", "query-engine-wasm", "query_engine_bg.wasm", "adapter-pg", "driver-adapter-utils")


@pytest.fixture(scope="module")
def image():
    """Build (or find up to date) the image of this checkout: the same call the moat bundle build makes."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "image-build.sh")], cwd=REPO, capture_output=True,
                          text=True, check=False, timeout=2400)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return built_image()


@pytest.fixture(scope="module")
def inspect(image) -> dict[str, Any]:
    return json.loads(podman("image", "inspect", image.ref).stdout)[0]


@pytest.fixture(scope="module")
def labels(inspect) -> dict[str, str]:
    return inspect["Config"]["Labels"] or inspect["Labels"]


@pytest.fixture(scope="module")
def index(image):
    return image_index(image.archive)


def test_structure_tests_pass_and_the_engine_test_can_fail(image, index, labels, tmp_path_factory):
    """container-structure-test, every config at once, on the image's projection (tests/image/projection.py: the
    paths the configs name, as the image has them, under its real config). Built with engines (release), all pass;
    built without (this machine cannot reach the Prisma engines host), exactly the engine config's tests fail - an
    empty /opt/prisma/binaries does not pass for a baked one."""
    configs = [*CONFIGS, PRISMA]
    projection = write_projection(image.archive, index, config_paths(configs), tmp_path_factory.mktemp("cst") / "p.tar")
    report = structure_test_configs(projection, configs)
    failed = {r["Name"] for r in report["Results"] if not r["Pass"]}
    prisma = yaml.safe_load(PRISMA.read_text())
    prefix = {"fileExistenceTests": "File Existence Test: ", "fileContentTests": "File Content Test: "}
    engine_tests = {prefix[kind] + t["name"] for kind in prefix for t in prisma[kind]}
    docs = [yaml.safe_load(c.read_text()) for c in configs]
    expected = sum(len(d.get(k) or []) for d in docs for k in ("fileExistenceTests", "fileContentTests"))
    assert report["Total"] == expected + sum("metadataTest" in d for d in docs) >= 29  # every test ran
    if labels["dev.gatekit.prisma-engines"] == "bake":
        assert report["returncode"] == 0 and not failed, failed
    else:
        assert labels["dev.gatekit.prisma-engines"] == "absent"
        assert report["returncode"] != 0
        # The engine config's label test fails too (it demands `bake`); nothing outside that config does.
        assert engine_tests <= failed and failed <= {*engine_tests, "Metadata Test"}, failed
        metadata = [r["Pass"] for r in report["Results"] if r["Name"] == "Metadata Test"]
        assert sorted(metadata) == [False, True]  # structure-tests.yaml's passes, the engine config's does not
        assert report["Fail"] == len(engine_tests) + 1, failed


def test_the_projection_is_faithful(image, index, tmp_path):
    """What the structure tests see is the image: the same bytes and modes, links resolved inside the image."""
    wanted = {"/opt/gatekit/healthcheck.py", "/opt/gatekit/venv/bin/python", "/bin/sh", "/opt/prisma/ENGINES.sha256"}
    out = write_projection(image.archive, index, wanted, tmp_path / "p.tar")
    with tarfile.open(out) as outer, tarfile.open(fileobj=outer.extractfile("layer.tar")) as layer:
        members = {m.name: m for m in layer}
        health = layer.extractfile(members["opt/gatekit/healthcheck.py"]).read()
    assert health == (REPO / "image" / "healthcheck.py").read_bytes()
    assert members["opt/gatekit/healthcheck.py"].mode == index["opt/gatekit/healthcheck.py"][1].mode & 0o7777
    assert members["opt/gatekit/venv/bin/python"].issym()  # and what it points at came along
    assert any(n.endswith("bin/python3.11") and members[n].isfile() for n in members), sorted(members)
    assert not any(n.endswith("bin/sh") for n in members)  # absent in the image, absent here


def test_the_runtime_dir_belongs_to_the_gateway_user(index):
    """A volume mounted on /var/lib/gatekit starts with this directory's owner: root-owned, serve cannot write."""
    runtime, parent = index["var/lib/gatekit"][1], index["var/lib"][1]
    assert (runtime.uid, runtime.gid) == (container.UID, container.GID)
    assert (parent.uid, parent.gid) == (0, 0)


def test_nothing_test_only_is_in_the_image(index, inspect):
    assert len(index) > 10_000 and "opt/gatekit/venv/bin/gatekit" in index  # the listing is real
    assert [p for p in index if any(m in p for m in STANDIN_MARKERS)] == []
    env = dict(e.split("=", 1) for e in inspect["Config"]["Env"])
    assert "PRISMA_QUERY_ENGINE_BINARY" not in env  # prisma-client-py would run that file instead of a baked engine
    assert env["PRISMA_BINARY_CACHE_DIR"] == "/opt/prisma/binaries"


def test_image_labels_record_version_revision_and_inputs(labels):
    assert labels["org.opencontainers.image.title"] == "gatekit-gateway"
    assert len(labels["dev.gatekit.inputs"]) == 16
    assert "python3-debian12" not in labels["org.opencontainers.image.base.name"]


def _json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


@pytest.fixture(scope="module")
def run(image):
    """One hardened run of the image (its ENTRYPOINT/CMD: tini -> gatekit serve) + the demo provider inside."""
    name = f"gatekit-image-test-{secrets.token_hex(4)}"
    key = "sk-image-" + secrets.token_hex(12)
    podman("secret", "create", name, "-", input=key)  # the master key reaches the container as a podman secret
    cmd = ["run", "--detach", "--name", name, "--read-only", "--cap-drop=all", "--security-opt=no-new-privileges"]
    cmd += [f"--user={container.UID}:{container.GID}", "--network=none", "--ulimit=host"]
    # Each writable path a tmpfs owned by the container's user, as the platforms give it a volume (a Docker/ECS volume
    # copies the image directory's owner up, k8s sets fsGroup): podman's plain --tmpfs would be root-owned 0755.
    cmd += [
        f"--mount=type=tmpfs,destination={w.path},tmpfs-size={w.size_mib}m,U=true" for w in container.WRITABLE_PATHS
    ]
    cmd += [f"--secret={name},type=env,target=GATEKIT_MASTER_KEY", "--env=GATEKIT_ENV=local"]
    # The drain budget well above the slow stream's 24 s, so the stream surely finishes inside it.
    cmd += [image.ref, "serve", "--host", "0.0.0.0", "--set", "gateway.drain.budget_seconds=60"]
    out: dict[str, Any] = {"key": key}
    try:
        started = time.monotonic()
        podman(*cmd)
        # Slow streams (60 chunks, 0.4 s apart: 24 s) so a stream is surely in flight when SIGTERM arrives: a podman
        # command alone was seen to take several seconds here before the signal reached the container.
        mock = ["/opt/gatekit/venv/bin/gatekit", "mock-llm", "--port", "4010", "--chunks", "60"]
        podman("exec", "--detach", name, *mock, "--chunk-delay-ms", "400")
        exec_probe = ["exec", "--env", f"PROBE_KEY={key}", name, "/opt/gatekit/venv/bin/python", "-c"]
        probe = podman(*exec_probe, PROBE.read_text(), timeout=600, check=False)
        out["probe_rc"], out["probe_err"] = probe.returncode, probe.stderr[-3000:]
        out["probe"] = json.loads(probe.stdout.strip().splitlines()[-1]) if probe.stdout.strip() else {}
        out["ready_after_start_seconds"] = round(time.monotonic() - started, 1)
        if probe.returncode != 0:  # not ready: keep the logs for the assertions, skip the rest
            logs = podman("logs", name)
            out["logs"] = logs.stdout + logs.stderr
            out["inspect"] = json.loads(podman("inspect", name).stdout)[0]
            return out
        out["healthcheck_rc"] = podman("healthcheck", "run", name, check=False, timeout=120).returncode
        out["inspect"] = json.loads(podman("inspect", name).stdout)[0]
        # SIGTERM (podman stop) while a stream is in flight.
        in_flight = subprocess.Popen(
            ["podman", *exec_probe, PROBE.read_text(), "in-flight"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_podman_env(),
        )  # fmt: skip
        assert in_flight.stdout is not None
        first = in_flight.stdout.readline()
        out["first_chunk_seen"] = first.strip() == "FIRST-CHUNK"
        podman("stop", "--time", "90", name, timeout=180)
        try:
            rest, _ = in_flight.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            in_flight.kill()
            rest, _ = in_flight.communicate()
        out["in_flight_client"] = rest
        out["state"] = json.loads(podman("inspect", name).stdout)[0]["State"]
        logs = podman("logs", name)
        out["logs"] = logs.stdout + logs.stderr
    finally:
        podman("rm", "--force", name, check=False)
        podman("secret", "rm", name, check=False)
    return out


def _podman_env() -> dict[str, str]:
    from tests.image.built import podman_env

    return podman_env()


def _probe(run) -> dict[str, Any]:
    """The probe's outcome; fails with the container's log when the gateway never became ready."""
    assert run["probe_rc"] == 0 and "ready_seconds" in run["probe"], run["probe_err"] + run["logs"][-3000:]
    return run["probe"]


def test_runs_the_way_the_platforms_run_it(run):
    host, config = run["inspect"]["HostConfig"], run["inspect"]["Config"]
    assert host["ReadonlyRootfs"] is True
    assert host["NetworkMode"] == "none"
    assert "CAP_NET_BIND_SERVICE" in host["CapDrop"] and "CAP_CHOWN" in host["CapDrop"] and not host["CapAdd"]
    assert run["inspect"]["OCIRuntime"] == "runc"
    assert config["User"] == f"{container.UID}:{container.GID}"
    facts = _probe(run)["facts"]
    assert facts["uids"] == [container.UID], facts  # every process in the container, real and effective
    assert facts["interfaces"] == ["lo"], facts  # no network but loopback
    assert int(facts["cap_eff"], 16) == 0, facts


def test_ready_and_healthy(run):
    _probe(run)
    # The image's own HEALTHCHECK (exec form, no shell), run by podman: exit 0 and the state it records.
    assert run["healthcheck_rc"] == 0
    state = run["inspect"]["State"]
    health = state.get("Health") or state.get("Healthcheck")  # podman 4.3 names it Healthcheck, later ones Health
    assert health["Status"] == "healthy", health


def test_chat_is_routed_by_auto(run):
    chat = _probe(run)["chat"]
    assert chat["status"] == 200, chat
    assert "gatekit demo provider" in chat["body"]["choices"][0]["message"]["content"]
    assert chat["route"]["x-gatekit-route-tier"] in {"economy", "premium"}, chat["route"]
    assert chat["route"]["x-gatekit-route-strategy"], chat["route"]


def test_stream_finishes(run):
    stream = _probe(run)["stream"]
    assert stream["status"] == 200 and stream["done"] is True and stream["chunks"] >= 2, stream


def test_bad_key_is_refused(run):
    assert _probe(run)["bad_key_status"] == 401


def test_sigterm_drains_the_stream_in_flight_and_exits_zero(run):
    _probe(run)
    assert run["first_chunk_seen"], run["in_flight_client"]
    assert run["state"]["ExitCode"] == 0, run["logs"][-3000:]
    assert run["state"].get("OOMKilled") is False
    records = _json_lines(run["logs"])
    messages = [r.get("message") for r in records]
    assert "draining" in messages and "drained" in messages, run["logs"][-3000:]
    draining = records[messages.index("draining")]
    assert draining["in_flight"] >= 1, draining  # SIGTERM came while the stream was in flight
    finished = [
        r for r in records[messages.index("draining") : messages.index("drained")]
        if r.get("message") == "request" and r.get("path") == "/v1/chat/completions"
    ]  # fmt: skip
    assert finished and all(r["status"] == 200 for r in finished), records[-10:]


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
