"""Kubernetes manifests -> `Deployment`: what a cluster would start from the manifests a target applies (the EKS
gateway stack's and the Pulumi gcp/azure/k8s programs'), in the rehearsal's platform-neutral terms.

Read exactly as the kubelet reads them: the pod's securityContext (uid/gid), each container's `command`/`args` over
the image's ENTRYPOINT/CMD, `env` values, `configMapKeyRef`s resolved from the ConfigMaps, `secretKeyRef`s as
secret references, `emptyDir` mounts as the writable paths, probes, the termination grace period; init containers
that run to completion (no `restartPolicy: Always`) come first, as `migrations` when they run `migrate`.

ConfigMap volumes are read-only files the process reads (the synced document, CA bundles): they are materialised
into a host directory and the paths that name them are rewritten to it (`mounts`), as the kubelet projects them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from gatekit.rehearse.image import ImageFacts
from gatekit.rehearse.spec import (
    ConfigSource,
    ConfigSourceType,
    Deployment,
    ProcessKind,
    ProcessSpec,
    SecretSource,
)

Manifest = dict[str, Any]
SOURCE_ENV, URI_ENV = "GATEKIT_CONFIG_SOURCE", "GATEKIT_CONFIG_URI"


class ExtractionError(ValueError):
    """The manifests do not describe something a cluster would run (a missing ConfigMap key, no gateway, …)."""


@dataclass
class ConfigMapMount:
    """A ConfigMap volume: its files, the container path it is mounted at, and the host directory standing in."""

    config_map: str
    container_path: str
    files: dict[str, str]
    host_dir: Path | None = None

    def remap(self, value: str) -> str:
        if self.host_dir is None or not value.startswith(self.container_path.rstrip("/") + "/"):
            return value
        return str(self.host_dir) + value[len(self.container_path.rstrip("/")) :]


@dataclass
class K8sExtraction:
    deployment: Deployment
    mounts: list[ConfigMapMount] = field(default_factory=list)
    # The pod's secret references by variable (what the platform injects), for populating the stores.
    secret_refs: dict[str, SecretSource] = field(default_factory=dict)


def _items(manifest: Manifest, key: str) -> list[Manifest]:
    """The list of objects under `key` ([] when absent or null)."""
    items: list[Manifest] = manifest.get(key) or []
    return items


def _fields(manifest: Manifest, key: str) -> Manifest:
    """The object under `key` ({} when absent or null)."""
    fields: Manifest = manifest.get(key) or {}
    return fields


def _by_kind(manifests: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m.get("kind") == kind]


def _config_maps(manifests: Iterable[Manifest]) -> dict[str, dict[str, str]]:
    return {m["metadata"]["name"]: dict(m.get("data") or {}) for m in _by_kind(manifests, "ConfigMap")}


def _env(container: Manifest, config_maps: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, str], dict[str, Any]]:
    plain: dict[str, str] = {}
    secret: dict[str, SecretSource] = {}
    for entry in _items(container, "env"):
        name = entry["name"]
        if "value" in entry:
            plain[name] = str(entry["value"])
            continue
        ref = _fields(entry, "valueFrom")
        if "configMapKeyRef" in ref:
            cm, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
            if key not in config_maps.get(cm, {}):
                raise ExtractionError(f"{container['name']}: {name} names ConfigMap {cm} key {key}, which is not there")
            plain[name] = str(config_maps[cm][key])
        elif "secretKeyRef" in ref:
            secret[name] = SecretSource("k8s-secret", ref["secretKeyRef"]["name"], ref["secretKeyRef"].get("key"))
        else:
            raise ExtractionError(f"{container['name']}: {name} uses {sorted(ref)}, which the rehearsal cannot read")
    for source in _items(container, "envFrom"):
        if "configMapRef" in source:
            plain.update(config_maps.get(source["configMapRef"]["name"], {}))
        else:
            raise ExtractionError(f"{container['name']}: envFrom {sorted(source)} is not supported by the rehearsal")
    return plain, secret


def _argv(container: Manifest, image: ImageFacts) -> tuple[str, ...]:
    """Kubernetes semantics: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD."""
    if container.get("command"):
        return (*container["command"], *(container.get("args") or ()))
    args = container.get("args")
    return (*image.entrypoint, *(image.cmd if args is None else args))


def _probe_path(container: Manifest, probe: str) -> str | None:
    return _fields(_fields(container, probe), "httpGet").get("path")


def _process(
    container: Manifest,
    kind: ProcessKind,
    pod: Manifest,
    image: ImageFacts,
    config_maps: Mapping[str, Mapping[str, str]],
    replicas: int,
    origin: str,
) -> ProcessSpec:
    volumes = {v["name"]: v for v in _items(pod, "volumes")}
    writable = tuple(
        m["mountPath"]
        for m in _items(container, "volumeMounts")
        if not m.get("readOnly") and "emptyDir" in volumes.get(m["name"], {})
    )
    security = {**_fields(pod, "securityContext"), **_fields(container, "securityContext")}
    if "runAsUser" not in security:
        raise ExtractionError(f"{origin}: no runAsUser; the pod would run as the image's USER")
    plain, secret = _env(container, config_maps)
    ports = _items(container, "ports")
    return ProcessSpec(
        name=container["name"],
        kind=kind,
        argv=_argv(container, image),
        env=plain,
        secret_env=secret,
        uid=int(security["runAsUser"]),
        gid=int(security.get("runAsGroup", security["runAsUser"])),
        writable_paths=writable,
        read_only_root=bool(security.get("readOnlyRootFilesystem")),
        port=int(ports[0]["containerPort"]) if ports else None,
        liveness_path=_probe_path(container, "livenessProbe"),
        readiness_path=_probe_path(container, "readinessProbe"),
        replicas=replicas,
        stop_timeout_seconds=pod.get("terminationGracePeriodSeconds", 30),
        origin=origin,
    )


def _config_mounts(
    container: Manifest, pod: Manifest, config_maps: Mapping[str, Mapping[str, str]]
) -> list[ConfigMapMount]:
    volumes = {v["name"]: v for v in _items(pod, "volumes")}
    out: list[ConfigMapMount] = []
    for mount in _items(container, "volumeMounts"):
        volume = volumes.get(mount["name"], {})
        if "configMap" in volume:
            name = volume["configMap"]["name"]
            out.append(ConfigMapMount(name, mount["mountPath"], dict(config_maps.get(name, {}))))
    return out


def extract_k8s(
    manifests: list[Manifest],
    image: ImageFacts,
    *,
    target: str,
    env_name: str,
    documents: Mapping[str, str] | None = None,
    min_replicas: int = 2,
) -> K8sExtraction:
    """The gateway Deployment's pod (and its run-to-completion init containers) as ProcessSpecs, and the config
    source its replicas are pointed at. `documents`: uri -> the document the deploy uploads there (object stores);
    a `file` source's document is the mounted ConfigMap file itself."""
    config_maps = _config_maps(manifests)
    deployments = [d for d in _by_kind(manifests, "Deployment") if d["metadata"]["name"].endswith("-gateway")]
    if len(deployments) != 1:
        raise ExtractionError(f"expected one gateway Deployment, found {len(deployments)}")
    workload = deployments[0]
    pod = workload["spec"]["template"]["spec"]
    name = workload["metadata"]["name"]
    hpa = [h for h in _by_kind(manifests, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
    replicas = max(min_replicas, workload["spec"].get("replicas") or (hpa[0]["spec"]["minReplicas"] if hpa else 1))
    processes: list[ProcessSpec] = []
    for init in _items(pod, "initContainers"):
        if init.get("restartPolicy") == "Always":
            continue  # a native sidecar (the collector): not part of the gateway's start sequence
        origin = f"Deployment/{name} initContainer {init['name']}"
        processes.append(_process(init, "migrations", pod, image, config_maps, 1, origin))
    (gateway,) = [c for c in pod["containers"] if c["name"] == "gateway"]
    processes.append(_process(gateway, "gateway", pod, image, config_maps, replicas, f"Deployment/{name}"))
    mounts = _config_mounts(gateway, pod, config_maps)

    env = processes[-1].env
    source, uri = env.get(SOURCE_ENV), env.get(URI_ENV)
    if not source or not uri:
        raise ExtractionError(f"the gateway is given no config source ({SOURCE_ENV}={source!r}, {URI_ENV}={uri!r})")
    if source == "file":
        mount = next((m for m in mounts if uri.startswith(m.container_path.rstrip("/") + "/")), None)
        if mount is None:
            raise ExtractionError(f"{URI_ENV}={uri} is not inside any mounted ConfigMap")
        key = uri[len(mount.container_path.rstrip("/")) + 1 :]
        if key not in mount.files:
            raise ExtractionError(f"{URI_ENV}={uri}: ConfigMap {mount.config_map} has no key `{key}`")
        config = ConfigSource("file", uri, mount.files[key], upload=f"ConfigMap {mount.config_map} key {key}")
    else:
        if not documents or uri not in documents:
            raise ExtractionError(f"the deploy uploads no document to {uri} (source {source})")
        # As the manifest names it: a source the runtime does not know fails when the gateway starts, as in a cluster.
        config = ConfigSource(cast("ConfigSourceType", source), uri, documents[uri], upload=uri)
    secret_refs = {var: ref for p in processes for var, ref in p.secret_env.items()}
    deployment = Deployment(target=target, env_name=env_name, processes=processes, config_source=config)
    return K8sExtraction(deployment, mounts, secret_refs)


def materialise(extraction: K8sExtraction, host_root: Path) -> None:
    """Write each ConfigMap mount into a root-owned, world-readable host directory (as the kubelet projects it) and
    rewrite every process variable that names a file in it."""
    for i, mount in enumerate(extraction.mounts):
        mount.host_dir = host_root / f"configmap-{i}-{mount.config_map}"
        mount.host_dir.mkdir(parents=True, exist_ok=True)
        mount.host_dir.chmod(0o755)
        for key, value in mount.files.items():
            if "/" in key:
                raise ExtractionError(f"ConfigMap {mount.config_map} key `{key}` is not a file name")
            path = mount.host_dir / key
            path.write_text(value)
            path.chmod(0o644)
    from dataclasses import replace

    def remap(value: str) -> str:
        for mount in extraction.mounts:
            value = mount.remap(value)
        return value

    extraction.deployment.processes = [
        replace(p, env={k: remap_all(v, remap) for k, v in p.env.items()}) for p in extraction.deployment.processes
    ]


def remap_all(value: str, remap: Any) -> str:
    """Paths inside URLs (e.g. `ssl_ca_certs=/etc/...` in a query) are remapped too."""
    if value.startswith("/"):
        return remap(value)
    for sep in ("=", "&"):
        if sep in value:
            return sep.join(remap_all(part, remap) for part in value.split(sep))
    return value


def rehearse(shared: Any, env: Any, pg: Any, workdir: Path, overrides: list[str]) -> Any:
    """Rehearse a Pulumi target (gcp, azure, k8s): see gatekit.rehearse.k8s_run."""
    from gatekit.rehearse.k8s_run import rehearse_pulumi

    return rehearse_pulumi(shared, env, pg, workdir, overrides)
