"""Policy validators of what a deployment exposes (security, issue 12), served with the rest of the pack.

- `private-control-plane`: GKE and AKS API servers are private or restricted to named networks; nodes are private.
- `firewalled-stores`: Key Vault and the storage account refuse public networks (default action Deny).
- `no-public-plaintext`: nothing listens in plaintext on a public address. A LoadBalancer Service without an internal
  annotation must serve TLS only (443) from named source ranges; an Ingress must carry TLS for each host.
- `tls-listeners`: nothing listens in plaintext at all, internal addresses included (issue 12: TLS end to end). A
  LoadBalancer or NodePort Service listens on TLS ports only; an Ingress carries TLS (spec.tls or a GKE managed
  certificate) and, on GKE's load balancers, opens no HTTP forwarding rule (`kubernetes.io/ingress.allow-http`).
- `database-tls-verified`: every Postgres URL the deployment stores verifies the server (sslmode=verify-full, or
  Prisma's sslaccept=strict), and so does every container that names its database in variables (workloads, the
  EKS manifests, ECS task definitions: DATABASE_SSLMODE verify-full, a literal DATABASE_URL verified).
- `images-pinned`: every container image of a workload is pinned by digest.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gatekit.clouds.policy_base import Context, Policy, dicts, get, items_of, mapping
from gatekit.config.exposure import GCE_CLASSES
from gatekit.render.k8s_ingress import ALLOW_HTTP, MANAGED_CERTS

# Annotations that keep a LoadBalancer Service on private addresses (GKE, AKS, AWS load balancer controller).
INTERNAL_LB = {
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}
TLS_PORTS = frozenset({443})
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
WORKLOADS = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
)


def _open_to_all(cidrs: Any) -> bool:
    for cidr in items_of(cidrs):
        try:
            if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
                return True
        except ValueError:
            continue
    return False


def _private_control_plane(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    if typ == "gcp:container/cluster:Cluster":
        if get(props, "privateClusterConfig.enablePrivateNodes") is not True:
            out.append("GKE nodes must be private (privateClusterConfig.enablePrivateNodes)")
        if get(props, "privateClusterConfig.enablePrivateEndpoint") is not True:
            cidrs = [b.get("cidrBlock") for b in dicts(get(props, "masterAuthorizedNetworksConfig.cidrBlocks"))]
            if not cidrs or _open_to_all(cidrs):
                out.append(
                    "GKE control plane is public: use a private endpoint or master authorized networks that name "
                    "the deployer's networks (not 0.0.0.0/0)"
                )
            if get(props, "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled") is True:
                out.append("GKE control plane must not admit every Google Cloud public address")
    elif typ == "azure-native:containerservice:ManagedCluster":
        if get(props, "apiServerAccessProfile.enablePrivateCluster") is not True:
            ranges = items_of(get(props, "apiServerAccessProfile.authorizedIpRanges"))
            if not ranges or _open_to_all(ranges):
                out.append(
                    "AKS API server is public: make the cluster private or set authorized IP ranges that name the "
                    "deployer's networks (not 0.0.0.0/0)"
                )
        for i, pool in enumerate(items_of(get(props, "agentPoolProfiles"))):
            if isinstance(pool, dict) and mapping(pool).get("enableNodePublicIP") is True:
                out.append(f"AKS node pool {i} gives nodes public IPs")
    return out


def _firewalled_stores(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    if typ == "azure-native:keyvault:Vault":
        access = get(props, "properties.publicNetworkAccess")
        action = get(props, "properties.networkAcls.defaultAction")
        cidrs = [r.get("value") for r in dicts(get(props, "properties.networkAcls.ipRules"))]
    elif typ == "azure-native:storage:StorageAccount":
        access, action = get(props, "publicNetworkAccess"), get(props, "networkRuleSet.defaultAction")
        cidrs = [r.get("iPAddressOrRange") for r in dicts(get(props, "networkRuleSet.ipRules"))]
    else:
        return []
    what = "Key Vault" if typ.endswith("Vault") else "storage account"
    if str(access).lower() == "disabled":
        return []
    if str(action).lower() != "deny" or _open_to_all(cidrs):
        return [f"{what} accepts public networks: disable public network access or deny by default (network rules)"]
    return []


def _internal(annotations: Any) -> bool:
    given = mapping(annotations)
    return any(str(given.get(k, "")).lower() == v for k, v in INTERNAL_LB.items())


def _no_public_plaintext(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    if typ == "kubernetes:core/v1:Service" and get(props, "spec.type") == "LoadBalancer":
        if _internal(get(props, "metadata.annotations")):
            return []
        ports = [p.get("port") for p in dicts(get(props, "spec.ports"))]
        plain = [p for p in ports if p not in TLS_PORTS]
        if plain:
            out.append(
                f"public load balancer listens in plaintext on port(s) {', '.join(map(str, plain))}: keep the "
                "Service internal or put an Ingress with TLS in front (gateway.exposure.ingress)"
            )
        ranges = items_of(get(props, "spec.loadBalancerSourceRanges"))
        if not ranges or _open_to_all(ranges):
            out.append("public load balancer admits every address: set network.allowed_ingress_cidrs")
    elif typ == "kubernetes:networking.k8s.io/v1:Ingress":
        out.extend(_ingress_without_tls(props))
    return out


def _ingress_without_tls(props: dict[str, Any]) -> list[str]:
    if mapping(get(props, "metadata.annotations")).get(MANAGED_CERTS):
        return []  # a Google-managed certificate for the Ingress's hosts
    covered = {h for t in dicts(get(props, "spec.tls")) for h in items_of(t.get("hosts"))}
    hosts = [r.get("host") for r in dicts(get(props, "spec.rules"))]
    bare = [h or "*" for h in hosts if h not in covered]
    if not covered or bare:
        return [f"Ingress serves plaintext for host(s) {', '.join(bare) or '*'}: add spec.tls for each host"]
    return []


def _tls_listeners(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    if typ == "kubernetes:core/v1:Service" and get(props, "spec.type") in ("LoadBalancer", "NodePort"):
        ports = [p.get("port") for p in dicts(get(props, "spec.ports"))]
        plain = [p for p in ports if p not in TLS_PORTS]
        if plain:
            return [
                f"{get(props, 'spec.type')} Service listens in plaintext on port(s) {', '.join(map(str, plain))} "
                "(internal addresses too): keep it ClusterIP behind the TLS Ingress (gateway.exposure.ingress)"
            ]
    elif typ == "kubernetes:networking.k8s.io/v1:Ingress":
        out = _ingress_without_tls(props)
        annotations = mapping(get(props, "metadata.annotations"))
        gke = get(props, "spec.ingressClassName") in GCE_CLASSES or annotations.get("kubernetes.io/ingress.class") in (
            GCE_CLASSES
        )
        if gke and str(annotations.get(ALLOW_HTTP, "true")).lower() != "false":
            out.append('GKE Ingress opens an HTTP forwarding rule: set kubernetes.io/ingress.allow-http: "false"')
        return out
    return []


# Where each type keeps a secret value that may be a database URL.
URL_PROPS: dict[str, tuple[str, ...]] = {
    "gcp:secretmanager/secretVersion:SecretVersion": ("secretData",),
    "azure-native:keyvault:Secret": ("properties.value",),
    "kubernetes:core/v1:Secret": ("stringData",),
}


def _unverified_postgres(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        return False
    query = dict(parse_qsl(parts.query))
    return not (query.get("sslmode") == "verify-full" or query.get("sslaccept") == "strict")


# Where a workload states its database TLS in variables: LiteLLM's discrete DATABASE_* (the AWS targets) or a URL.
ECS_TASK_DEFINITIONS = ("AWS::ECS::TaskDefinition", "aws:ecs/taskDefinition:TaskDefinition")


def _env_findings(where: str, env: dict[str, Any]) -> list[str]:
    out: list[str] = []
    mode = env.get("DATABASE_SSLMODE")
    if isinstance(mode, str) and mode != "verify-full":
        out.append(f"{where}: DATABASE_SSLMODE `{mode}` does not verify the server (use verify-full)")
    url = env.get("DATABASE_URL")
    if isinstance(url, str) and _unverified_postgres(url):
        out.append(f"{where}: DATABASE_URL is a Postgres URL that does not verify the server (use sslmode=verify-full)")
    return out


def _container_envs(typ: str, props: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(container name, literal environment) of a workload's or an ECS task definition's containers."""
    if typ in WORKLOADS:
        pod = mapping(get(props, "spec.template.spec"))
        return [
            (str(c.get("name")), {str(e.get("name")): e.get("value") for e in dicts(c.get("env"))})
            for group in ("initContainers", "containers")
            for c in dicts(pod.get(group))
        ]
    if typ in ECS_TASK_DEFINITIONS:
        defs: Any = props.get("ContainerDefinitions") or props.get("containerDefinitions") or []
        if isinstance(defs, str):  # Pulumi's aws.ecs.TaskDefinition takes them as a JSON string
            defs = json.loads(defs)
        return [
            (
                str(c.get("Name", c.get("name"))),
                {
                    str(e.get("Name", e.get("name"))): e.get("Value", e.get("value"))
                    for e in dicts(c.get("Environment", c.get("environment")))
                },
            )
            for c in dicts(defs)
        ]
    return []


def _database_tls_verified(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    for path in URL_PROPS.get(typ, ()):
        value = get(props, path)
        values: list[Any] = list(mapping(value).values()) if isinstance(value, dict) else [value]
        if any(isinstance(v, str) and _unverified_postgres(v) for v in values):
            out.append(f"`{path}`: a Postgres URL that does not verify the server (use sslmode=verify-full)")
    for name, env in _container_envs(typ, props):
        out.extend(_env_findings(f"container `{name}`", env))
    return out


def _images_pinned(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    if typ not in WORKLOADS:
        return []
    pod = mapping(get(props, "spec.template.spec"))
    out: list[str] = []
    for group in ("initContainers", "containers"):
        for c in dicts(pod.get(group)):
            image = c.get("image")
            if isinstance(image, str) and not DIGEST.search(image):
                out.append(f"container `{c.get('name')}` pulls `{image}` by tag: pin it by digest (@sha256:…)")
    return out


EXPOSURE_POLICIES: tuple[Policy, ...] = (
    Policy("private-control-plane", "Cluster APIs are private or limited to named networks.", _private_control_plane),
    Policy("firewalled-stores", "Key Vault and storage refuse public networks.", _firewalled_stores),
    Policy("no-public-plaintext", "Nothing listens in plaintext on a public address.", _no_public_plaintext),
    Policy("tls-listeners", "Nothing listens in plaintext, internal addresses included.", _tls_listeners),
    Policy("database-tls-verified", "Postgres URLs verify the server (verify-full).", _database_tls_verified),
    Policy("images-pinned", "Every workload image is pinned by digest.", _images_pinned),
)
