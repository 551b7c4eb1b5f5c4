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
  ManagedCertificate (`gce` only). The NetworkPolicy admits the load balancer's proxies and health checks.
- GKE `gce` on target gcp: client addresses are limited by a Cloud Armor security policy the gcp program creates
  (gatekit.clouds.gcp_armor) and a BackendConfig that attaches it to the Service's backend service (the Service's
  `cloud.google.com/backend-config` annotation). GKE's internal load balancer (`gce-internal`, a regional backend
  service) cannot carry one: ingress-gce attaches security policies to global backend services only, so validation
  refuses `network.allowed_ingress_cidrs` there (gatekit.config.tls_checks)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gatekit.config.exposure import GCE_CLASSES, Exposure, IngressFrontDoor
from gatekit.config.gcp_ranges import proxy_only_range

if TYPE_CHECKING:
    from gatekit.config.environment import Environment

Manifest = dict[str, Any]
GOOGLE_LB_RANGES = ("35.191.0.0/16", "130.211.0.0/22")  # Google front ends and health checks
NEG_ANNOTATION = {"cloud.google.com/neg": '{"ingress": true}'}
ALLOW_HTTP = "kubernetes.io/ingress.allow-http"
MANAGED_CERTS = "networking.gke.io/managed-certificates"
BACKEND_CONFIG = "cloud.google.com/backend-config"


def gce(door: IngressFrontDoor | None) -> bool:
    return door is not None and door.class_name in GCE_CLASSES


def cloud_armor_policy(env: Environment) -> str | None:
    """The name of the Cloud Armor security policy in front of the gateway: target gcp with GKE's external load
    balancer (`gce`). The gcp program creates it under this name; the BackendConfig refers to it by name."""
    door = env.gateway.exposure.ingress
    if env.target != "gcp" or door is None or door.class_name != "gce":
        return None
    return f"{env.deployment.prefix}-gateway"


def service_annotations(door: IngressFrontDoor | None, backend_config: str | None = None) -> Manifest:
    """The ClusterIP Service behind a GKE Ingress is served as network endpoint groups (pods as backends); with
    Cloud Armor, its backend service takes the BackendConfig `backend_config`."""
    out = dict(NEG_ANNOTATION) if gce(door) else {}
    if backend_config:
        out[BACKEND_CONFIG] = json.dumps({"default": backend_config})
    return out


def backend_config(meta: Manifest, service: str, security_policy: str) -> Manifest:
    """GKE's BackendConfig attaching the Cloud Armor security policy to the Service's backend service."""
    return {
        "apiVersion": "cloud.google.com/v1",
        "kind": "BackendConfig",
        "metadata": {**meta, "name": service},
        "spec": {"securityPolicy": {"name": security_policy}},
    }


def load_balancer_sources(env: Environment) -> list[str]:
    """Addresses a GKE load balancer reaches the pods from (it bypasses any in-cluster controller): Google's front
    ends and health checks, and for the internal one its proxy-only subnet (`gcp.proxy_only_cidr`)."""
    door = env.gateway.exposure.ingress
    if door is None or not gce(door):
        return []
    return [*GOOGLE_LB_RANGES, *([proxy_only_range(env)] if door.class_name == "gce-internal" else [])]


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
    paths: list[Manifest] = []
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
