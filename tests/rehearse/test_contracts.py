"""Single contracts the rehearsal found drifting (issue 11): a deployed replica starts from the deployed document
(the bootstrap pointer is the only gatekit setting passed as a variable), `config validate` accepts exactly what
`serve` accepts, and `gatekit moat build` finds its own uv and fails on an absent component."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.config import default_config_dir, load_environment
from gatekit.render.env import BOOTSTRAP_ENV, render_environment
from gatekit.render.sync_document import sync_document
from gatekit.runtime.bootstrap import deployed_environment

UNREAD = ("GATEKIT_MAX_IN_FLIGHT", "GATEKIT_DRAIN_BUDGET_SECONDS", "GATEKIT_CONFIG_INTERVAL_SECONDS")


@pytest.mark.parametrize("name", ["local", "dev", "moat", "k8s"])
def test_only_the_bootstrap_pointer_is_rendered(name: str) -> None:
    plain = render_environment(load_environment(name, default_config_dir())).plain
    assert not set(UNREAD) & set(plain)
    gatekit_vars = {k for k in plain if k.startswith("GATEKIT_")}
    assert gatekit_vars <= set(BOOTSTRAP_ENV)


def test_replica_starts_from_the_deployed_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baked = load_environment("k8s", default_config_dir())
    deployed = load_environment(
        "k8s", default_config_dir(), ["gateway.drain.budget_seconds=7", "gateway.backpressure.max_in_flight=11"]
    )
    document = tmp_path / "environment.json"
    document.write_bytes(sync_document(deployed).body)
    for var in render_environment(deployed).secrets:
        monkeypatch.setenv(var, "present")
    monkeypatch.setenv("GATEKIT_CONFIG_SOURCE", "file")
    monkeypatch.setenv("GATEKIT_CONFIG_URI", str(document))
    env = deployed_environment(baked)
    assert env.gateway.drain.budget_seconds == 7 and env.gateway.backpressure.max_in_flight == 11
    assert baked.gateway.drain.budget_seconds != 7


def test_unreadable_deployed_document_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baked = load_environment("k8s", default_config_dir())
    monkeypatch.setenv("GATEKIT_CONFIG_SOURCE", "file")
    monkeypatch.setenv("GATEKIT_CONFIG_URI", str(tmp_path / "missing.json"))
    with pytest.raises(SystemExit, match="cannot read the deployed config document"):
        deployed_environment(baked)
    (tmp_path / "missing.json").write_text(json.dumps({"name": "k8s"}))
    with pytest.raises(SystemExit, match="is invalid"):
        deployed_environment(baked)


def test_without_a_deployment_uri_the_loaded_config_is_final(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEKIT_CONFIG_URI", raising=False)
    monkeypatch.setenv("GATEKIT_CONFIG_SOURCE", "file")
    baked = load_environment("local", default_config_dir())
    assert deployed_environment(baked) is baked


def test_config_validate_takes_set_and_refuses_workers_serve_refuses() -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["config", "validate", "--env", "dev", "--set", "gateway.port=4100"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["config", "validate", "--env", "dev", "--set", "gateway.workers=2"])
    assert bad.exit_code == 1 and "gateway.workers" in bad.output


def test_moat_build_finds_the_checkouts_uv_without_dollar_uv(monkeypatch: pytest.MonkeyPatch) -> None:
    from gatekit.moat.lock import CHECKOUT_UV, find_uv, project_root

    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    found = Path(find_uv())
    assert found == project_root() / CHECKOUT_UV
    assert found.stat().st_mode & stat.S_IXUSR


def test_moat_build_exits_non_zero_on_an_absent_component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gatekit.moat.build as build
    from gatekit.moat.components import Component

    class Result:
        out = tmp_path
        wheels = 1
        seconds = 0.0
        components = {
            "images": Component("images", False, reason="no container builder"),
            "sbom": Component("sbom", True),
        }

    monkeypatch.setattr(build, "build_bundle", lambda request, echo: Result())
    args = ["moat", "build", "--env", "moat", "--out", str(tmp_path / "b")]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1 and "images absent" in refused.output and "--allow-absent NAME" in refused.output
    allowed = CliRunner().invoke(cli, [*args, "--allow-absent", "images"])
    assert allowed.exit_code == 0, allowed.output
