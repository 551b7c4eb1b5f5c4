"""The gateway on any Kubernetes cluster, as plain manifest dicts.

`render_gateway_manifests` is the one renderer every Kubernetes target uses: the Pulumi component (GKE, AKS, any
cluster) creates one resource per manifest, and the CDK EKS target applies the same list with
`cluster.add_manifest`. It imports no deployment tool. Values the caller passes in (image, config URI, annotations,
secret-store parameters) may be deploy-time values (Pulumi Outputs, CDK tokens); they are placed verbatim and never
formatted into strings here.

The image: `image=` (a value the deploy tool built or resolved) or `compute.image` from config. A string image
must be pinned by digest (`…@sha256:<64 hex>`) outside the `local` target; there is no default image.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from gatekit.config import Environment
from gatekit.config.network_access import ingress_cidrs
from gatekit.config.sizing import in_flight_target
from gatekit.render.agent_egress import network_policy_egress
from gatekit.render.env import render_environment
from gatekit.render.k8s_collector import CollectorExporter, collector_config_map, collector_sidecar
from gatekit.render.k8s_ingress import (
    backend_config,
    cloud_armor_policy,
    ingress_manifest,
    load_balancer_sources,
    managed_certificate,
    service_annotations,
)
from gatekit.render.k8s_monitoring import monitoring_manifests
from gatekit.render.k8s_secrets import (
    SECRETS_MOUNT,
    SecretStore,
    csi_volume,
    needs_mount,
    secret_key_refs,
    secret_store_manifests,
)
from gatekit.render.k8s_workload import (
    CONFIG_KEY,
    CONFIG_MOUNT,
    PodInputs,
    container_security_context,
    deployment,
)
from gatekit.render.sync_document import sync_document

Manifest = dict[str, Any]

__all__ = [
    "CONFIG_MOUNT",
    "CollectorExporter",
    "SecretStore",
    "ServiceExposure",
    "render_gateway_manifests",
    "resolve_image",
]

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# The bootstrap variables (gatekit.render.env.BOOTSTRAP_ENV minus GATEKIT_ENV), from the ConfigMap.
CONFIG_SYNC_KEYS = ("GATEKIT_CONFIG_SOURCE", "GATEKIT_CONFIG_URI")
_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9._-]+")
# Egress the gateway always needs besides its model providers: cloud APIs, Postgres, Redis (TLS ports included).
BASE_EGRESS_PORTS = (443, 5432, 6378, 6379, 6380)
# Workload-identity token endpoints on the node (GKE metadata server 80/988, EKS Pod Identity 80).
LINK_LOCAL = "169.254.0.0/16"
IN_FLIGHT_METRIC = "gatekit_in_flight_requests"  # gatekit.runtime.metrics: requests a pod is serving


@dataclass(frozen=True)
class ServiceExposure:
    """How the gateway Service is reached. Cloud callers pass their internal load-balancer annotations."""

    type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    port: int = 80
    annotations: Mapping[str, Any] = field(default_factory=dict[str, Any])


def resolve_image(env: Environment, image: Any = None) -> Any:
    """The gateway image: the caller's value, else `compute.image`. Strings must be digest-pinned outside local."""
    chosen = image if image is not None else env.compute.image
    if chosen is None:
        raise ValueError(
            f"environment `{env.name}` has no gateway image: set `compute.image` (digest-pinned) or pass image="
        )
    if isinstance(chosen, str) and env.target != "local" and "${Token[" not in chosen and not DIGEST.search(chosen):
        raise ValueError(f"gateway image `{chosen}` must be pinned by digest (…@sha256:<64 hex>) on `{env.target}`")
    return chosen


def label_value(value: str) -> str:
    """A tag value as a valid Kubernetes label value (63 chars, alphanumeric at both ends)."""
    return _LABEL_VALUE_BAD.sub("-", value)[:63].strip("-_.")


def _egress_ports(env: Environment, extra: Iterable[int]) -> list[int]:
    ports = {*BASE_EGRESS_PORTS, *extra}
    for model in env.gateway.models:
        base = model.litellm_params.api_base if model.litellm_params else None
        if base:
            parts = urlsplit(base)
            ports.add(parts.port or (80 if parts.scheme == "http" else 443))
    return sorted(ports)


def _network_policy(
    env: Environment, meta: Manifest, name: str, selector: Mapping[str, str], extra_ports: Iterable[int]
) -> Manifest:
    tcp = [{"protocol": "TCP", "port": p} for p in _egress_ports(env, extra_ports)]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {**meta, "name": name},
        "spec": {
            "podSelector": {"matchLabels": dict(selector)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [{"ipBlock": {"cidr": c}} for c in ingress_cidrs(env)]
                    + [{"podSelector": {}}]
                    + _ingress_controller_peer(env),
                    "ports": [{"protocol": "TCP", "port": env.gateway.port}],
                }
            ],
            "egress": [
                {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {
                    "to": [{"ipBlock": {"cidr": LINK_LOCAL}}],
                    "ports": [{"protocol": "TCP", "port": p} for p in (80, 988)],
                },
                {"ports": tcp},
                *network_policy_egress(env),  # MCP servers and A2A agents, one rule per peer (issue 19)
            ],
        },
    }


def _ingress_controller_peer(env: Environment) -> list[Manifest]:
    """The in-cluster ingress controller's pods (another namespace): CNIs such as Cilium never match pod addresses
    against ipBlock, so without this peer the Ingress would reach no gateway pod (security, issue 12)."""
    door = env.gateway.exposure.ingress
    lb = [{"ipBlock": {"cidr": c}} for c in load_balancer_sources(env)]  # GKE: the load balancer's own proxies
    if door is None or not door.controller_namespace:
        return lb
    return [*lb, {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": door.controller_namespace}}}]


def _autoscaling(env: Environment, meta: Manifest, name: str, selector: Mapping[str, str]) -> list[Manifest]:
    r = env.compute.replicas
    out: list[Manifest] = [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {**meta, "name": name},
            # One pod at a time: never blocks node drains (even at one replica), never takes two down at once.
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(selector)}},
        }
    ]
    if r.max > r.min:
        out.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {**meta, "name": name},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": r.min,
                    "maxReplicas": r.max,
                    # In flight per pod (gatekit's /metrics, summed over the pod's workers; served to the HPA by a
                    # custom-metrics adapter such as prometheus-adapter, docs/performance.md), with CPU kept as a
                    # floor: the HPA takes the largest replica count any metric asks for.
                    "metrics": [
                        {
                            "type": "Pods",
                            "pods": {
                                "metric": {"name": IN_FLIGHT_METRIC},
                                "target": {"type": "AverageValue", "averageValue": str(in_flight_target(env))},
                            },
                        },
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": env.compute.autoscaling.cpu_target_percent,
                                },
                            },
                        },
                    ],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
                },
            }
        )
    return out


def _config_map(env: Environment, meta: Manifest, name: str, config_uri: Any, files: Mapping[str, Any]) -> Manifest:
    sync = env.gateway.config_sync
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {**meta, "name": name},
        "data": {
            # The document every replica syncs (gatekit.render.sync_document); source `file` reads it from the mount.
            CONFIG_KEY: sync_document(env).text,
            "GATEKIT_CONFIG_SOURCE": sync.source,
            "GATEKIT_CONFIG_URI": config_uri,
            **files,
        },
    }


def _config_uri(env: Environment, config_source: Any) -> Any:
    sync = env.gateway.config_sync
    if config_source is not None:
        return config_source
    if sync.uri:
        return sync.uri
    if sync.source == "file":
        return f"{CONFIG_MOUNT}/{CONFIG_KEY}"
    raise ValueError(
        f"config_sync source `{sync.source}` needs a uri: set gateway.config_sync.uri or pass config_source="
    )


def render_gateway_manifests(
    env: Environment,
    *,
    image: Any = None,
    config_source: Any = None,
    service_account_annotations: Mapping[str, Any] | None = None,
    pod_labels: Mapping[str, str] | None = None,
    secret_store: SecretStore | None = None,
    extra_env: Mapping[str, Any] | None = None,
    extra_secret_env: Iterable[str] = (),
    exporter: CollectorExporter | None = None,
    service: ServiceExposure | None = None,
    config_files: Mapping[str, Any] | None = None,
    create_namespace: bool = True,
    migrations: bool | None = None,
) -> list[Manifest]:
    """Every manifest of one gateway, in apply order.

    image: the gateway image (default `compute.image`); see the module docstring for the digest rule.
    config_source: URI of the config object the deployment provides (gs://…, https://…blob…, s3://…); default
        `gateway.config_sync.uri`, or the mounted ConfigMap for source `file`.
    service_account_annotations / pod_labels: workload identity (GKE `iam.gke.io/gcp-service-account`, AKS
        `azure.workload.identity/client-id` + pod label `azure.workload.identity/use`, EKS role ARN).
    secret_store: the cloud store that fills the gateway Secret `<prefix>-gateway-secrets` (GKE secret sync for
        `gcp`; the Secrets Store CSI driver's secretObjects for `azure` and `aws`). Without one, `k8s` targets read
        their own Secrets (bring your own) and other targets read keys of the gateway Secret, filled by the caller.
    extra_env / extra_secret_env: variables the deployment adds (e.g. DATABASE_URL of a managed database).
    exporter: the OpenTelemetry collector's exporter; no collector when None or `observability.otlp_endpoint` is
        empty (traces off).
    config_files: extra non-secret files in the config ConfigMap, mounted under `CONFIG_MOUNT` (e.g. a CA bundle).
    create_namespace: False when the operator creates the namespace first (target `k8s`: its Secrets live there).
    migrations: run `gatekit migrate` as the pod's first init container (default: when a database is enabled), so
        no gateway process starts before the schema it needs exists.
    """
    prefix = env.deployment.prefix
    namespace = env.kubernetes.namespace
    name = f"{prefix}-gateway"
    selector = {"app.kubernetes.io/name": "gatekit-gateway", "app.kubernetes.io/instance": prefix}
    labels = {
        **{k: label_value(v) for k, v in sorted(env.tags.items())},
        **selector,
        "app.kubernetes.io/part-of": "gatekit",
        "app.kubernetes.io/managed-by": "gatekit",
        "gatekit.dev/environment": label_value(env.name),
    }
    meta: Manifest = {"namespace": namespace, "labels": labels}  # every use copies it (see _fresh)
    gateway_secret = f"{prefix}-gateway-secrets"
    config_map = f"{prefix}-gateway-config"

    rendered = render_environment(env)
    plain = {k: v for k, v in rendered.plain.items() if k not in CONFIG_SYNC_KEYS}
    plain.update(extra_env or {})
    collector = exporter if exporter is not None and env.observability.otlp_endpoint else None
    if collector is not None:
        plain["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"  # the sidecar
    secret_extra = [*extra_secret_env, *(collector.secret_env if collector else ())]
    secret_env = secret_key_refs(
        rendered.secrets, secret_extra, gateway_secret=gateway_secret, store=secret_store, byo=env.target == "k8s"
    )

    out: list[Manifest] = []
    if create_namespace:
        ns_labels = {**labels, "pod-security.kubernetes.io/enforce": "restricted"}
        out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": ns_labels}})
    out.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {**meta, "name": name, "annotations": dict(service_account_annotations or {})},
            "automountServiceAccountToken": False,
        }
    )
    files = dict(config_files or {})
    clash = set(files) & {CONFIG_KEY, *CONFIG_SYNC_KEYS}
    if clash:
        raise ValueError(f"config_files may not replace {', '.join(sorted(clash))}")
    out.append(_config_map(env, meta, config_map, _config_uri(env, config_source), files))
    volumes: list[Manifest] = []
    mounts: list[Manifest] = []
    sidecars: list[Manifest] = []
    if secret_store is not None:
        out.extend(secret_store_manifests(name, meta, secret_store, gateway_secret, name))
        if needs_mount(secret_store):
            volumes.append(csi_volume(name))
            mounts.append({"name": "secrets-store", "mountPath": SECRETS_MOUNT, "readOnly": True})
    if collector is not None:
        collector_cm = f"{prefix}-otel-collector"
        out.append(collector_config_map(collector_cm, meta, collector, f"{prefix}-gateway"))
        volumes.append({"name": "otel-config", "configMap": {"name": collector_cm}})
        sidecars.append(
            collector_sidecar(
                image=env.observability.collector_image,
                exporter=collector,
                secret_env=secret_env,
                security_context=container_security_context(),
            )
        )
    run_migrations = env.database.enabled if migrations is None else migrations
    pod = PodInputs(
        name=name,
        selector=selector,
        labels=labels,
        pod_labels=dict(pod_labels or {}),
        image=resolve_image(env, image),
        service_account=name,
        config_map=config_map,
        plain_env=plain,
        secret_env={k: v for k, v in secret_env.items() if collector is None or k not in collector.secret_env},
        config_env=CONFIG_SYNC_KEYS,
        extra_volumes=tuple(volumes),
        extra_mounts=tuple(mounts),
        sidecars=tuple(sidecars),
        migrations=run_migrations,
    )
    autoscaled = env.compute.replicas.max > env.compute.replicas.min
    out.append(deployment(env, pod, meta, autoscaled=autoscaled))
    exposure = service or ServiceExposure()
    front_door = env.gateway.exposure.ingress  # security (issue 12): Ingress with TLS, exposure paths only
    armor = cloud_armor_policy(env)  # GKE external load balancer: Cloud Armor through a BackendConfig
    if front_door is not None:  # ClusterIP behind the Ingress (NEG-served on GKE)
        annotations = service_annotations(front_door, name if armor else None)
        exposure = ServiceExposure(port=exposure.port, annotations=annotations)
    svc_spec: Manifest = {
        "type": exposure.type,
        "selector": dict(selector),
        "ports": [{"name": "http", "port": exposure.port, "targetPort": "http", "protocol": "TCP"}],
    }
    if exposure.type == "LoadBalancer":
        svc_spec["loadBalancerSourceRanges"] = list(ingress_cidrs(env))
        svc_spec["externalTrafficPolicy"] = "Local"  # keeps client IPs, so the NetworkPolicy CIDRs apply
    out.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {**meta, "name": name, "annotations": dict(exposure.annotations)},
            "spec": svc_spec,
        }
    )
    if front_door is not None:
        sources = list(ingress_cidrs(env))
        out.append(ingress_manifest(env.gateway.exposure, front_door, meta, name, exposure.port, sources))
        out.extend(managed_certificate(front_door, meta, name))
        if armor:
            out.append(backend_config(meta, name, armor))
    out.extend(_autoscaling(env, meta, name, selector))
    out.append(_network_policy(env, meta, name, selector, collector.egress_ports if collector else ()))
    out.extend(monitoring_manifests(env, meta, name, selector))  # PodMonitor + PrometheusRule (k8s_monitoring.py)
    return [_fresh(m) for m in out]


def _fresh(node: Any) -> Any:
    """Copy dicts and lists so no two manifests share a mutable node; leaves (deploy-time values too) are kept."""
    if isinstance(node, dict):
        return {k: _fresh(v) for k, v in cast(dict[Any, Any], node).items()}
    if isinstance(node, list):
        return [_fresh(v) for v in cast(list[Any], node)]
    return node
