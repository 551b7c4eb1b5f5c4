# pyright: standard
"""The Kubernetes front door of `gateway.exposure`: an Ingress that routes only the exposed paths to the gateway
Service, over TLS from cert-manager (`cert-manager.io/cluster-issuer`) or a certificate Secret the cloud's managed
certificate controller fills. Paths ending in `*` become `Prefix` paths, the others `Exact`; anything else has no
rule, so the ingress controller answers 404 and the request never reaches a pod.

Every shipped gcp, azure and k8s environment has one (`gateway.exposure.ingress`, required by validation); the
Service then stays ClusterIP behind it. Per class:

- NGINX (`nginx`, AKS application routing): TLS from the Secret, HTTP answers only with a redirect to HTTPS, clients
  limited to `network.allowed_ingress_cidrs` unless that is the whole internet.
- GKE (`gce-internal`, `gce`): no HTTP forwarding rule at all (`kubernetes.io/ingress.allow-http: "false"`), the
  Service as network endpoint groups (container-native), the certificate from the Secret or a Google-managed
  ManagedCertificate (`gce` only). The NetworkPolicy admits the load balancer's proxies and health checks."""

from __future__ import annotations

from typing import Any

from gatekit.config.exposure import GCE_CLASSES, Exposure, IngressFrontDoor

Manifest = dict[str, Any]
GKE_PROXY_ONLY_RANGE = "100.72.0.0/23"  # the gcp program's proxy-only subnet (internal Application Load Balancer)
GOOGLE_LB_RANGES = ("35.191.0.0/16", "130.211.0.0/22")  # Google front ends and health checks
NEG_ANNOTATION = {"cloud.google.com/neg": '{"ingress": true}'}
ALLOW_HTTP = "kubernetes.io/ingress.allow-http"
MANAGED_CERTS = "networking.gke.io/managed-certificates"


def gce(door: IngressFrontDoor | None) -> bool:
    return door is not None and door.class_name in GCE_CLASSES


def service_annotations(door: IngressFrontDoor | None) -> Manifest:
    """The ClusterIP Service behind a GKE Ingress is served as network endpoint groups (pods as backends)."""
    return dict(NEG_ANNOTATION) if gce(door) else {}


def load_balancer_sources(door: IngressFrontDoor | None) -> list[str]:
    """Addresses a GKE load balancer reaches the pods from (it bypasses any in-cluster controller)."""
    if not gce(door):
        return []
    assert door is not None
    return [*GOOGLE_LB_RANGES, *([GKE_PROXY_ONLY_RANGE] if door.class_name == "gce-internal" else [])]


def _open_to_all(cidrs: list[str]) -> bool:
    return any(c.endswith("/0") for c in cidrs)


def _annotations(door: IngressFrontDoor, service: str, source_ranges: list[str]) -> Manifest:
    out: Manifest = {}
    if gce(door):
        out[ALLOW_HTTP] = "false"
        if door.managed_certificate:
            out[MANAGED_CERTS] = service
    else:
        out["nginx.ingress.kubernetes.io/ssl-redirect"] = "true"
        out["nginx.ingress.kubernetes.io/force-ssl-redirect"] = "true"
        if source_ranges and not _open_to_all(source_ranges):
            out["nginx.ingress.kubernetes.io/whitelist-source-range"] = ",".join(source_ranges)
    if door.cluster_issuer:
        out["cert-manager.io/cluster-issuer"] = door.cluster_issuer
    return out


def managed_certificate(door: IngressFrontDoor, meta: Manifest, service: str) -> list[Manifest]:
    if not door.managed_certificate:
        return []
    return [
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "ManagedCertificate",
            "metadata": {**meta, "name": service},
            "spec": {"domains": [door.host]},
        }
    ]


def ingress_paths(exposure: Exposure, service: str, port: int) -> list[Manifest]:
    backend = {"service": {"name": service, "port": {"number": port}}}
    paths = []
    for pattern in exposure.paths:
        if pattern.endswith("*"):
            paths.append({"path": pattern[:-1], "pathType": "Prefix", "backend": backend})
        else:
            paths.append({"path": pattern, "pathType": "Exact", "backend": backend})
    return paths


def ingress_manifest(
    exposure: Exposure,
    door: IngressFrontDoor,
    meta: Manifest,
    service: str,
    port: int,
    source_ranges: list[str] | None = None,
) -> Manifest:
    spec: Manifest = {"ingressClassName": door.class_name}
    if not door.managed_certificate:
        spec["tls"] = [{"hosts": [door.host], "secretName": door.tls_secret}]
    spec["rules"] = [{"host": door.host, "http": {"paths": ingress_paths(exposure, service, port)}}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {**meta, "name": service, "annotations": _annotations(door, service, list(source_ranges or []))},
        "spec": spec,
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
