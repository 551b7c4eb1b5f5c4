"""The gateway Deployment: hardened pod, probes, resources, drain timings, env and secret references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatekit.config import DrainTimings, Environment

Manifest = dict[str, Any]

RUN_AS = 65532  # the image's non-root user (distroless `nonroot`)
CONFIG_MOUNT = "/etc/gatekit/config"
CONFIG_KEY = "litellm.yaml"
WRITABLE_DIRS: dict[str, tuple[str, str]] = {
    # volume name -> (mount path, size limit): the only writable paths under a read-only root filesystem.
    "tmp": ("/tmp", "256Mi"),
    "run": ("/var/run/gatekit", "64Mi"),
    "cache": ("/home/nonroot/.cache", "512Mi"),
}
LIVENESS_PATH = "/health/liveliness"
READINESS_PATH = "/health/readiness"


def cpu_millicores(units: int) -> int:
    """Fargate-style vCPU units (1024 = 1 vCPU) to Kubernetes millicores."""
    return units * 1000 // 1024


def pod_security_context() -> Manifest:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
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


def _probe(path: str, port: int, **timing: int) -> Manifest:
    return {"httpGet": {"path": path, "port": port}, "timeoutSeconds": 5, **timing}


def gateway_container(env: Environment, p: PodInputs) -> Manifest:
    port = env.gateway.port
    drain = DrainTimings.from_drain(env.gateway.drain)
    mem = f"{env.compute.memory_mib}Mi"
    cpu = f"{cpu_millicores(env.compute.cpu)}m"
    container_env: list[Manifest] = [{"name": k, "value": v} for k, v in sorted(p.plain_env.items())]
    container_env += [
        {"name": k, "valueFrom": {"configMapKeyRef": {"name": p.config_map, "key": k}}} for k in p.config_env
    ]
    container_env += [{"name": k, "valueFrom": ref} for k, ref in sorted(p.secret_env.items())]
    mounts = [{"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True}]
    mounts += [{"name": vol, "mountPath": path} for vol, (path, _) in WRITABLE_DIRS.items()]
    container: Manifest = {
        "name": "gateway",
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": container_env,
        "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}},
        "securityContext": container_security_context(),
        "startupProbe": _probe(LIVENESS_PATH, port, periodSeconds=5, failureThreshold=60),
        "livenessProbe": _probe(LIVENESS_PATH, port, periodSeconds=15, failureThreshold=3),
        "readinessProbe": _probe(READINESS_PATH, port, periodSeconds=5, failureThreshold=2),
        "volumeMounts": mounts + list(p.extra_mounts),
    }
    if drain.k8s_pre_stop_seconds > 0:
        # Native sleep action (Kubernetes >= 1.30): the image has no shell, and endpoints are removed meanwhile.
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": drain.k8s_pre_stop_seconds}}}
    return container


def deployment(env: Environment, p: PodInputs, meta: Manifest, *, autoscaled: bool) -> Manifest:
    drain = DrainTimings.from_drain(env.gateway.drain)
    volumes: list[Manifest] = [{"name": "config", "configMap": {"name": p.config_map}}]
    volumes += [{"name": vol, "emptyDir": {"sizeLimit": size}} for vol, (_, size) in WRITABLE_DIRS.items()]
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
        "securityContext": pod_security_context(),
        "terminationGracePeriodSeconds": drain.k8s_termination_grace_seconds,
        "topologySpreadConstraints": spread,
        "containers": [gateway_container(env, p)],
        "volumes": volumes + list(p.extra_volumes),
    }
    if p.sidecars:
        pod_spec["initContainers"] = list(p.sidecars)
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
