"""The gateway Deployment: hardened pod, probes, resources, drain timings, env and secret references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatekit.config import DrainTimings, Environment
from gatekit.render.container import CONFIG_DIR, ContainerSpec, Probe
from gatekit.render.container import gateway_container as container_spec
from gatekit.render.container import migrations_container as migrations_spec
from gatekit.render.sync_document import DOCUMENT_NAME

Manifest = dict[str, Any]

CONFIG_MOUNT = CONFIG_DIR  # the container contract's read-only config directory
CONFIG_KEY = DOCUMENT_NAME  # the synced document (gatekit.render.sync_document) in the config ConfigMap


def cpu_millicores(units: int) -> int:
    """Fargate-style vCPU units (1024 = 1 vCPU) to Kubernetes millicores."""
    return units * 1000 // 1024


def pod_security_context(spec: ContainerSpec) -> Manifest:
    return {
        "runAsNonRoot": True,
        "runAsUser": spec.uid,
        "runAsGroup": spec.gid,
        "fsGroup": spec.gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> Manifest:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }


@dataclass(frozen=True)
class PodInputs:
    """Everything the pod template needs beyond the environment itself."""

    name: str
    selector: Mapping[str, str]
    labels: Mapping[str, str]
    pod_labels: Mapping[str, str]
    image: Any
    service_account: str
    config_map: str
    plain_env: Mapping[str, Any]
    secret_env: Mapping[str, Manifest]
    config_env: tuple[str, ...]
    extra_volumes: tuple[Manifest, ...] = ()
    extra_mounts: tuple[Manifest, ...] = ()
    sidecars: tuple[Manifest, ...] = ()
    migrations: bool = False  # `gatekit migrate` as the first init container


def _probe(probe: Probe, port: int) -> Manifest:
    return {
        "httpGet": {"path": probe.path, "port": port},
        "timeoutSeconds": probe.timeout_seconds,
        "periodSeconds": probe.period_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def writable_volumes(spec: ContainerSpec) -> tuple[list[Manifest], list[Manifest]]:
    """(volumes, mounts) of the contract's writable paths: emptyDirs under a read-only root filesystem."""
    volumes = [{"name": w.name, "emptyDir": {"sizeLimit": f"{w.size_mib}Mi"}} for w in spec.writable]
    mounts = [{"name": w.name, "mountPath": w.path} for w in spec.writable]
    return volumes, mounts


def _env(p: PodInputs) -> list[Manifest]:
    container_env: list[Manifest] = [{"name": k, "value": v} for k, v in sorted(p.plain_env.items())]
    container_env += [
        {"name": k, "valueFrom": {"configMapKeyRef": {"name": p.config_map, "key": k}}} for k in p.config_env
    ]
    container_env += [{"name": k, "valueFrom": ref} for k, ref in sorted(p.secret_env.items())]
    return container_env


def _mounts(spec: ContainerSpec, p: PodInputs) -> list[Manifest]:
    mounts = [{"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True}]
    return mounts + writable_volumes(spec)[1] + list(p.extra_mounts)


def _resources(env: Environment) -> Manifest:
    mem = f"{env.compute.memory_mib}Mi"
    cpu = f"{cpu_millicores(env.compute.cpu)}m"
    return {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}}


def migrations_container(env: Environment, p: PodInputs) -> Manifest:
    """`gatekit migrate` with the gateway's own environment; it must exit 0 before the gateway starts."""
    spec = migrations_spec(env)
    return {
        "name": "migrations",
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "args": list(spec.args),
        "env": _env(p),
        "resources": _resources(env),
        "securityContext": container_security_context(),
        "volumeMounts": _mounts(spec, p),
    }


def gateway_container(env: Environment, p: PodInputs) -> Manifest:
    spec = container_spec(env)
    port = spec.port
    drain = DrainTimings.from_drain(env.gateway.drain)
    container: Manifest = {
        "name": "gateway",
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "args": list(spec.args),
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": _env(p),
        "resources": _resources(env),
        "securityContext": container_security_context(),
        "startupProbe": _probe(spec.startup, port),
        "livenessProbe": _probe(spec.liveness, port),
        "readinessProbe": _probe(spec.readiness, port),
        "volumeMounts": _mounts(spec, p),
    }
    if drain.k8s_pre_stop_seconds > 0:
        # Native sleep action (Kubernetes >= 1.30): the image has no shell, and endpoints are removed meanwhile.
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": drain.k8s_pre_stop_seconds}}}
    return container


def deployment(env: Environment, p: PodInputs, meta: Manifest, *, autoscaled: bool) -> Manifest:
    drain = DrainTimings.from_drain(env.gateway.drain)
    volumes: list[Manifest] = [{"name": "config", "configMap": {"name": p.config_map}}]
    volumes += writable_volumes(container_spec(env))[0]
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(p.selector)},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    pod_spec: Manifest = {
        "serviceAccountName": p.service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(container_spec(env)),
        "terminationGracePeriodSeconds": drain.k8s_termination_grace_seconds,
        "topologySpreadConstraints": spread,
        "containers": [gateway_container(env, p)],
        "volumes": volumes + list(p.extra_volumes),
    }
    # Native sidecars first (they keep running), then the migrations, which must exit 0 before the gateway starts.
    init = list(p.sidecars) + ([migrations_container(env, p)] if p.migrations else [])
    if init:
        pod_spec["initContainers"] = init
    spec: Manifest = {
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": dict(p.selector)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": {**p.labels, **p.pod_labels}}, "spec": pod_spec},
    }
    if not autoscaled:
        # With an HPA the replica count belongs to it; re-applying a fixed count would fight the autoscaler.
        spec["replicas"] = env.compute.replicas.desired
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {**meta, "name": p.name}, "spec": spec}
