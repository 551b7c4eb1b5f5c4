"""The two seam contracts on the Kubernetes side: the document a replica syncs is the one the runtime accepts, and the
pod runs the image the way the container contract says (uid, writable paths, probes, args)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekit.config import Environment
from gatekit.render.container import gateway_container, migrations_container
from gatekit.render.env import render_environment
from gatekit.render.k8s import CONFIG_MOUNT, render_gateway_manifests
from gatekit.render.litellm import render_litellm_config
from gatekit.render.sync_document import config_version
from gatekit.runtime.apply import restart_required
from gatekit.runtime.sources import FileSource
from gatekit.runtime.sync import InvalidDocumentError, parse_document
from tests.pulumi.conftest import environment

SOURCES = {"gcp": "gs://bucket/environment.json", "azure": "https://a.blob.example/c/environment.json", "k8s": None}


def _manifests(name: str) -> tuple[Environment, list[dict[str, Any]]]:
    env = environment(name)
    return env, render_gateway_manifests(env, config_source=SOURCES[name])


def _config_map(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"].endswith("-gateway-config"))


def _pod(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in manifests if m["kind"] == "Deployment")["spec"]["template"]["spec"]


def _with_secrets(env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in render_environment(env).secrets:
        monkeypatch.setenv(var, "set-by-the-platform")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_document_a_replica_reads_is_accepted_by_its_config_sync(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap is mounted at CONFIG_MOUNT; a `file` replica reads GATEKIT_CONFIG_URI from it. Every target's
    ConfigMap carries the same document, so the mount is reproduced here and read through the runtime's own source."""
    env, manifests = _manifests(name)
    data = _config_map(manifests)["data"]
    mount = tmp_path / CONFIG_MOUNT.lstrip("/")
    mount.mkdir(parents=True)
    for key, value in data.items():
        (mount / key).write_text(value)
    uri = data["GATEKIT_CONFIG_URI"] if env.gateway.config_sync.source == "file" else f"{CONFIG_MOUNT}/environment.json"
    assert uri.startswith(CONFIG_MOUNT + "/") or name != "k8s"
    fetched = FileSource(str(tmp_path / uri.lstrip("/"))).fetch(None)
    assert fetched is not None
    _with_secrets(env, monkeypatch)
    parsed = parse_document(fetched.body, env.name)
    # Same version as the environment the replica started from, and nothing that would need a restart.
    assert config_version(parsed) == config_version(env)
    assert restart_required(env, parsed) == []


def test_the_litellm_yaml_replicas_used_to_be_pointed_at_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """What GKE/AKS/k8s replicas were given before: sync rejects it, so hot reload never happened."""
    env = environment("k8s")
    _with_secrets(env, monkeypatch)
    old = yaml.safe_dump(render_litellm_config(env), sort_keys=False).encode()
    with pytest.raises(InvalidDocumentError, match="not a JSON document"):
        parse_document(old, env.name)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_pod_follows_the_container_contract(name: str) -> None:
    env, manifests = _manifests(name)
    pod = _pod(manifests)
    spec = gateway_container(env)
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (spec.uid, spec.gid)
    gateway = next(c for c in pod["containers"] if c["name"] == "gateway")
    assert gateway["args"] == list(spec.args)
    assert gateway["ports"][0]["containerPort"] == spec.port
    assert gateway["livenessProbe"]["httpGet"]["path"] == spec.liveness.path
    assert gateway["readinessProbe"]["httpGet"]["path"] == spec.readiness.path
    assert gateway["startupProbe"]["failureThreshold"] * gateway["startupProbe"]["periodSeconds"] == (
        spec.startup_grace_seconds
    )
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = {m["mountPath"] for m in gateway["volumeMounts"] if not m.get("readOnly")}
    assert all("emptyDir" in volumes[m["name"]] for m in gateway["volumeMounts"] if not m.get("readOnly"))
    # The runtime writes the rendered LiteLLM config to its runtime dir: it must be writable under a read-only root.
    assert set(spec.writable_dirs) == writable and spec.runtime_dir in writable


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_migrations_run_first_with_the_gateways_environment(name: str) -> None:
    env, manifests = _manifests(name)
    pod = _pod(manifests)
    (migrations,) = [c for c in pod["initContainers"] if c["name"] == "migrations"]
    assert pod["initContainers"][-1] is migrations  # after native sidecars, before the gateway
    assert migrations["args"] == list(migrations_container(env).args) == ["migrate"]
    gateway = next(c for c in pod["containers"] if c["name"] == "gateway")
    assert migrations["env"] == gateway["env"]
    assert migrations["securityContext"]["readOnlyRootFilesystem"] is True


def test_no_migrations_without_a_database() -> None:
    env = environment("k8s", "database.enabled=false", "database.url=null")
    pod = _pod(render_gateway_manifests(env))
    assert "migrations" not in {c["name"] for c in pod.get("initContainers", [])}


def test_push_config_uploads_the_same_document_every_target_deploys() -> None:
    from gatekit.ops.errors import OpsError
    from gatekit.ops.push_config import render_document
    from gatekit.render.sync_document import sync_document

    env, manifests = _manifests("k8s")
    pushed = render_document(env, "/etc/gatekit/config/environment.json")
    assert pushed.body.decode() == _config_map(manifests)["data"]["environment.json"] == sync_document(env).text
    assert pushed.version == config_version(env)
    pinned = environment("dev", "gateway.config_sync.uri=s3://bucket/gateway/environment.json")
    with pytest.raises(OpsError, match="deployment syncs from"):
        render_document(pinned, "s3://another/gateway/environment.json")
