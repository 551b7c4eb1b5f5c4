"""The shared Kubernetes renderer: drain arithmetic, secret handling, hardening, sizing, wiring options."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from gatekit.config import DrainTimings
from gatekit.config.secrets import looks_like_secret
from gatekit.render.env import render_environment
from gatekit.render.k8s import CollectorExporter, SecretStore, ServiceExposure, render_gateway_manifests
from gatekit.render.sync_document import sync_document
from tests.pulumi.conftest import environment

DIGEST_IMAGE = "registry.example.com/gw@sha256:" + "ab" * 32


def by_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def pod_spec(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(manifests, "Deployment")
    return deployment["spec"]["template"]["spec"]


def gateway(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in pod_spec(manifests)["containers"] if c["name"] == "gateway")


@pytest.mark.parametrize(("budget", "pre_stop", "margin"), [(60, 5, 5), (30, 0, 1), (900, 60, 60), (1, 10, 3)])
def test_grace_period_is_pre_stop_plus_budget_plus_margin(budget: int, pre_stop: int, margin: int) -> None:
    env = environment(
        "k8s",
        f"gateway.drain.budget_seconds={budget}",
        f"gateway.drain.pre_stop_seconds={pre_stop}",
        f"gateway.drain.exit_margin_seconds={margin}",
    )
    manifests = render_gateway_manifests(env)
    spec = pod_spec(manifests)
    assert spec["terminationGracePeriodSeconds"] == pre_stop + budget + margin
    assert (
        spec["terminationGracePeriodSeconds"]
        == DrainTimings.from_drain(env.gateway.drain).k8s_termination_grace_seconds
    )
    lifecycle = gateway(manifests).get("lifecycle")
    if pre_stop:
        assert lifecycle == {"preStop": {"sleep": {"seconds": pre_stop}}}
    else:
        assert lifecycle is None
    # The drain budget reaches the process through the synced document (no variable repeats it).
    config = next(m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-gateway-config"))
    assert json.loads(config["data"]["environment.json"])["gateway"]["drain"]["budget_seconds"] == budget


@pytest.mark.parametrize("name", ["gcp", "azure", "k8s"])
def test_no_secret_value_in_any_manifest(name: str) -> None:
    env = environment(name)
    manifests = render_gateway_manifests(env, config_source="gs://b/environment.json")
    assert "Secret" not in {m["kind"] for m in manifests}
    for value in _strings(manifests):
        assert looks_like_secret(value) is None, value
    # Every secret the environment references reaches the pod as a secretKeyRef, never as a value.
    secret_vars = set(render_environment(env).secrets)
    assert env.secrets.master_key.env_var in secret_vars
    entries = {e["name"]: e for e in gateway(manifests)["env"]}
    for var in secret_vars:
        assert "value" not in entries[var], var
        assert set(entries[var]["valueFrom"]) == {"secretKeyRef"}


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_byo_secrets_reference_the_clusters_own_secrets() -> None:
    env = environment("k8s")
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in gateway(render_gateway_manifests(env))["env"]
        if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
    }
    assert refs["DATABASE_URL"] == {"name": "gatekit-database", "key": "url"}
    assert refs["REDIS_URL"] == {"name": "gatekit-redis", "key": "url"}
    assert refs["GATEKIT_SECRET_GATEKIT_MASTER_KEY"] == {"name": "gatekit-master-key", "key": "value"}


def test_security_context_is_hardened() -> None:
    manifests = render_gateway_manifests(environment("k8s"), exporter=CollectorExporter.otlp("http://tempo:4318"))
    spec = pod_spec(manifests)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    containers = spec["containers"] + spec.get("initContainers", [])
    assert {c["name"] for c in containers} == {"gateway", "otel-collector", "migrations"}
    for container in containers:
        ctx = container["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
    # Writable paths exist only as explicit emptyDir volumes.
    volumes = {v["name"]: v for v in spec["volumes"]}
    writable = [m for m in gateway(manifests)["volumeMounts"] if not m.get("readOnly")]
    assert writable, "the gateway needs at least /tmp"
    for mount in writable:
        assert "emptyDir" in volumes[mount["name"]], mount
    assert any(m["mountPath"] == "/tmp" for m in writable)


def test_probes_resources_and_scaling_follow_the_config() -> None:
    env = environment("k8s", "compute.cpu=512", "compute.memory_mib=1024", "compute.replicas.max=9")
    manifests = render_gateway_manifests(env)
    container = gateway(manifests)
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/liveliness"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/readiness"
    assert container["readinessProbe"]["httpGet"]["port"] == env.gateway.port
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1024Mi"}
    (hpa,) = by_kind(manifests, "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (env.compute.replicas.min, 9)
    in_flight, cpu = hpa["spec"]["metrics"]
    assert cpu["resource"]["target"]["averageUtilization"] == env.compute.autoscaling.cpu_target_percent
    # in flight per pod (issue 15): a share of max_in_flight, so pods are added before they shed
    assert in_flight["type"] == "Pods" and in_flight["pods"]["metric"]["name"] == "gatekit_in_flight_requests"
    per_pod = env.gateway.backpressure.max_in_flight * env.compute.autoscaling.in_flight_target_percent // 100
    assert in_flight["pods"]["target"] == {"type": "AverageValue", "averageValue": str(per_pod)}
    assert "replicas" not in by_kind(manifests, "Deployment")[0]["spec"]  # the HPA owns the count
    (pdb,) = by_kind(manifests, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1


def test_fixed_size_has_no_hpa_and_sets_replicas() -> None:
    env = environment("k8s", "compute.replicas.min=3", "compute.replicas.desired=3", "compute.replicas.max=3")
    manifests = render_gateway_manifests(env)
    assert not by_kind(manifests, "HorizontalPodAutoscaler")
    assert by_kind(manifests, "Deployment")[0]["spec"]["replicas"] == 3


def test_network_policy_allows_the_gateway_port_and_provider_ports() -> None:
    env = environment("k8s")
    (policy,) = by_kind(
        render_gateway_manifests(env, exporter=CollectorExporter.otlp("http://tempo:4318")), "NetworkPolicy"
    )
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": env.gateway.port}]
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert {53, 443, 5432, 4318} <= egress_ports


def test_image_must_be_digest_pinned_outside_local() -> None:
    env = environment("k8s")
    with pytest.raises(ValueError, match="pinned by digest"):
        render_gateway_manifests(env, image="registry.example.com/gw:latest")
    with pytest.raises(ValueError, match="no gateway image"):
        render_gateway_manifests(environment("k8s", "compute.image=null"))
    assert gateway(render_gateway_manifests(env, image=DIGEST_IMAGE))["image"] == DIGEST_IMAGE


def test_config_map_carries_the_sync_document_and_sync_settings() -> None:
    env = environment("gcp")
    manifests = render_gateway_manifests(
        env, config_source="gs://bucket/environment.json", config_files={"ca.pem": "x"}
    )
    config = next(m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-gateway-config"))
    assert config["data"]["environment.json"] == sync_document(env).text
    assert "litellm.yaml" not in config["data"]  # no replica reads LiteLLM YAML from a deployment
    assert config["data"]["GATEKIT_CONFIG_SOURCE"] == "gcs"
    assert config["data"]["GATEKIT_CONFIG_URI"] == "gs://bucket/environment.json"
    assert config["data"]["ca.pem"] == "x"
    with pytest.raises(ValueError, match="config_sync source `gcs` needs a uri"):
        render_gateway_manifests(env)
    with pytest.raises(ValueError, match="may not replace"):
        render_gateway_manifests(env, config_source="gs://b/k", config_files={"environment.json": "x"})


def test_gcp_secret_store_renders_gke_secret_sync() -> None:
    env = environment("gcp")
    objects = {
        var: f"projects/p/secrets/{var.lower()}/versions/latest"
        for var in (
            "GATEKIT_SECRET_MASTER_KEY",
            "LITELLM_SALT_KEY",
            "GATEKIT_SECRET_OPENAI_API_KEY",
            "DATABASE_URL",
            "REDIS_URL",
        )
    }
    manifests = render_gateway_manifests(
        env,
        config_source="gs://b/k",
        secret_store=SecretStore("gcp", objects),
        extra_secret_env=("DATABASE_URL", "REDIS_URL"),
    )
    (spc,) = by_kind(manifests, "SecretProviderClass")
    (sync,) = by_kind(manifests, "SecretSync")
    assert spc["spec"]["provider"] == "gke"
    assert {s["path"] for s in yaml.safe_load(spc["spec"]["parameters"]["secrets"])} == set(objects)
    assert sync["metadata"]["name"] == f"{env.deployment.prefix}-gateway-secrets"
    assert {d["targetKey"] for d in sync["spec"]["secretObject"]["data"]} == set(objects)
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in gateway(manifests)["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert set(refs) == set(objects)
    assert {r["name"] for r in refs.values()} == {sync["metadata"]["name"]}
    assert "secrets-store" not in {v["name"] for v in pod_spec(manifests)["volumes"]}  # GKE sync needs no mount
    with pytest.raises(ValueError, match="no object for DATABASE_URL"):
        render_gateway_manifests(
            env, config_source="gs://b/k", secret_store=SecretStore("gcp", {}), extra_secret_env=("DATABASE_URL",)
        )


def test_azure_secret_store_mounts_csi_and_collector_reads_its_key() -> None:
    env = environment("azure")
    conn = "APPLICATIONINSIGHTS_CONNECTION_STRING"
    names = ["GATEKIT_SECRET_MASTER_KEY", "LITELLM_SALT_KEY", "GATEKIT_SECRET_OPENAI_API_KEY", conn]
    manifests = render_gateway_manifests(
        env,
        config_source="https://a.blob.core.windows.net/c/environment.json",
        secret_store=SecretStore("azure", {n: n.lower().replace("_", "-") for n in names}, {"keyvaultName": "kv"}),
        exporter=CollectorExporter.azuremonitor(conn),
        pod_labels={"azure.workload.identity/use": "true"},
        service_account_annotations={"azure.workload.identity/client-id": "id"},
        service=ServiceExposure(type="LoadBalancer", annotations={"internal": "true"}),
    )
    (spc,) = by_kind(manifests, "SecretProviderClass")
    assert spc["spec"]["provider"] == "azure"
    assert spc["spec"]["secretObjects"][0]["secretName"].endswith("-gateway-secrets")
    spec = pod_spec(manifests)
    assert "secrets-store" in {v["name"] for v in spec["volumes"]}
    collector = spec["initContainers"][0]
    assert collector["restartPolicy"] == "Always"
    assert [e["name"] for e in collector["env"] if "valueFrom" in e] == [conn]
    assert conn not in {e["name"] for e in gateway(manifests)["env"]}
    (deployment,) = by_kind(manifests, "Deployment")
    assert deployment["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    (sa,) = by_kind(manifests, "ServiceAccount")
    assert sa["metadata"]["annotations"] == {"azure.workload.identity/client-id": "id"}
    (svc,) = by_kind(manifests, "Service")  # the TLS front door wins over a LoadBalancer request (issue 12)
    assert svc["spec"]["type"] == "ClusterIP" and "loadBalancerSourceRanges" not in svc["spec"]
    (ingress,) = by_kind(manifests, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    collector_cfg = next(m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("otel-collector"))
    exporters = yaml.safe_load(collector_cfg["data"]["collector.yaml"])["exporters"]
    assert exporters == {"azuremonitor": {"connection_string": "${env:" + conn + "}"}}


def test_no_collector_when_traces_are_off() -> None:
    env = environment("k8s", "observability.otlp_endpoint=null")
    manifests = render_gateway_manifests(env, exporter=CollectorExporter.otlp("http://tempo:4318"))
    assert [c["name"] for c in pod_spec(manifests).get("initContainers", [])] == ["migrations"]
    assert not [m for m in by_kind(manifests, "ConfigMap") if "otel" in m["metadata"]["name"]]


def test_manifests_share_no_mutable_nodes_and_are_labelled() -> None:
    env = environment("k8s")
    manifests = render_gateway_manifests(env)
    manifests[1]["metadata"]["labels"]["mutated"] = "yes"
    assert all("mutated" not in m["metadata"]["labels"] for m in manifests[2:])
    for manifest in manifests:
        labels = manifest["metadata"]["labels"]
        for tag in env.required_tags:
            assert labels.get(tag), (manifest["kind"], tag)
