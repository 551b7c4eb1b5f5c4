"""The Kubernetes front door of `gateway.exposure`: an Ingress that routes only the exposed paths to the gateway
Service, over TLS from cert-manager (`cert-manager.io/cluster-issuer`) or a certificate Secret the cloud's managed
certificate controller fills. Paths ending in `*` become `Prefix` paths, the others `Exact`; anything else has no
rule, so the ingress controller answers 404 and the request never reaches a pod.

Opt-in with `gateway.exposure.ingress` (the Service then stays ClusterIP behind it)."""

from __future__ import annotations

from typing import Any

from gatekit.config.exposure import Exposure, IngressFrontDoor

Manifest = dict[str, Any]


def ingress_paths(exposure: Exposure, service: str, port: int) -> list[Manifest]:
    backend = {"service": {"name": service, "port": {"number": port}}}
    paths = []
    for pattern in exposure.paths:
        if pattern.endswith("*"):
            paths.append({"path": pattern[:-1], "pathType": "Prefix", "backend": backend})
        else:
            paths.append({"path": pattern, "pathType": "Exact", "backend": backend})
    return paths


def ingress_manifest(exposure: Exposure, door: IngressFrontDoor, meta: Manifest, service: str, port: int) -> Manifest:
    annotations = {"nginx.ingress.kubernetes.io/ssl-redirect": "true"}
    if door.cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = door.cluster_issuer
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {**meta, "name": service, "annotations": annotations},
        "spec": {
            "ingressClassName": door.class_name,
            "tls": [{"hosts": [door.host], "secretName": door.tls_secret}],
            "rules": [{"host": door.host, "http": {"paths": ingress_paths(exposure, service, port)}}],
        },
    }


def ingress_routes(path: str, manifest: Manifest) -> bool:
    """Whether the Ingress routes `path` (Kubernetes semantics: Exact, or Prefix by whole path elements)."""
    for rule in manifest["spec"]["rules"]:
        for item in rule["http"]["paths"]:
            want = item["path"]
            if item["pathType"] == "Exact" and path == want:
                return True
            if item["pathType"] == "Prefix":
                prefix = want.rstrip("/")
                if path == prefix or path.startswith(prefix + "/"):
                    return True
    return False
