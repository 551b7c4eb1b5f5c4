"""Manifests -> Deployment for the Pulumi targets, on the manifests their programs really apply (under mocks): the
pod's processes in start order, with the uid, writable paths, env and secret references a cluster would give them,
and the config source the program wires (with the document it uploads, which the runtime's sync accepts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekit.config import load_environment
from gatekit.rehearse.image import read_image
from gatekit.rehearse.k8s import ExtractionError, extract_k8s, materialise
from gatekit.rehearse.k8s_run import manifests_of, stored_secrets, uploaded_documents
from gatekit.render.container import gateway_container
from gatekit.runtime.sync import parse_document
from tests.pulumi.conftest import cached_plan

ROOT = Path(__file__).resolve().parents[2]
IMAGE = read_image(ROOT / "image" / "Dockerfile")
SOURCE = {"gcp": "gcs", "azure": "azure-blob", "k8s": "file"}


@pytest.fixture(scope="module", params=sorted(SOURCE))
def planned(request: pytest.FixtureRequest):
    stack = request.param
    plan = cached_plan(stack)  # the same plan tests/pulumi records (one program run per stack and session)
    docs = {u: t for u, t in uploaded_documents(plan).items() if u.startswith("gs://")}
    if stack == "azure":  # the blob uri as the ConfigMap names it
        (blob,) = uploaded_documents(plan).values()
        maps = [m for m in manifests_of(plan) if m["kind"] == "ConfigMap"]
        cm = next(m for m in maps if m["metadata"]["name"].endswith("-config"))
        docs[cm["data"]["GATEKIT_CONFIG_URI"]] = blob
    return stack, plan, extract_k8s(manifests_of(plan), IMAGE, target=stack, env_name=stack, documents=docs)


def test_processes_start_with_migrations_then_the_gateway(planned) -> None:
    _stack, plan, ex = planned
    kinds = [(p.name, p.kind) for p in ex.deployment.processes]
    assert kinds == [("migrations", "migrations"), ("gateway", "gateway")]
    spec = gateway_container(plan.environment)
    for process in ex.deployment.processes:
        args = ("migrate",) if process.kind == "migrations" else spec.args
        assert process.argv == (*spec.entrypoint, *args)
        assert (process.uid, process.gid) == (spec.uid, spec.gid)
        assert set(process.writable_paths) == set(spec.writable_dirs)
        assert process.read_only_root is True
    gateway = ex.deployment.gateway()
    assert gateway.replicas >= 2 and gateway.readiness_path == "/health/readiness"


def test_secrets_are_references_the_deploy_fills(planned) -> None:
    stack, plan, ex = planned
    refs = ex.secret_refs
    assert {"DATABASE_URL", plan.environment.secrets.master_key.env_var} <= set(refs)
    assert all(r.store == "k8s-secret" for r in refs.values())
    if stack != "k8s":  # the cloud store the program fills holds a value for every variable the pod reads
        assert set(refs) <= set(stored_secrets(plan))
    for process in ex.deployment.processes:
        assert not set(process.env) & set(process.secret_env)


def test_the_config_source_is_the_one_the_program_wires_and_its_document_is_accepted(planned, monkeypatch) -> None:
    stack, _plan, ex = planned
    source = ex.deployment.config_source
    assert source.type == SOURCE[stack]
    for var in ex.secret_refs:
        monkeypatch.setenv(var, "x")
    env = parse_document(source.document.encode(), stack)
    assert env.name == stack


def test_configmap_mounts_are_materialised_and_paths_rewritten(planned, tmp_path) -> None:
    stack, _plan, ex = planned
    materialise(ex, tmp_path)
    gateway = ex.deployment.gateway()
    (mount,) = ex.mounts
    assert mount.host_dir is not None and (mount.host_dir / "environment.json").is_file()
    if stack == "k8s":
        assert gateway.env["GATEKIT_CONFIG_URI"] == str(mount.host_dir / "environment.json")


def test_a_configmap_key_the_pod_names_must_exist() -> None:
    env = load_environment("k8s", ROOT / "config")
    from gatekit.render.k8s import render_gateway_manifests

    manifests = render_gateway_manifests(env, create_namespace=False)
    cm = next(m for m in manifests if m["kind"] == "ConfigMap")
    del cm["data"]["environment.json"]
    with pytest.raises(ExtractionError, match=r"has no key `environment\.json`"):
        extract_k8s(manifests, IMAGE, target="k8s", env_name="k8s")
