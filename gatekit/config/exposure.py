"""`gateway.exposure`: what the gateway answers, to whom, and which bodies it accepts.

One reachable surface per environment. By default only the inference API (`/v1/*`) and the health probes answer;
LiteLLM's docs, OpenAPI, UI and management API answer only to clients in `admin_cidrs`. The runtime enforces it
(gatekit.runtime.exposure) and so does every front door (ALB listener rules, Ingress paths, NetworkPolicy)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from gatekit.config.environment import Environment

PathPattern = Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*\*?$")]
HEALTH_PATHS = ("/health/liveliness", "/health/liveness", "/health/readiness")
DEFAULT_PATHS = ("/v1/*", *HEALTH_PATHS)
MIB = 1024 * 1024


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as exc:
        raise ValueError(f"`{value}` is not a CIDR block") from exc


GCE_CLASSES = frozenset({"gce", "gce-internal"})  # GKE's own load balancers (external / internal Application LB)
AKS_APP_ROUTING_CLASS = "webapprouting.kubernetes.azure.com"  # AKS application routing add-on (managed NGINX)


class IngressFrontDoor(BaseModel):
    """Target k8s/gcp/azure: an Ingress with TLS in front of the gateway (exposure paths only). Every shipped
    environment of these targets has one: the gateway Service stays ClusterIP, nothing listens in plaintext."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$", description="DNS name clients use.")
    class_name: str = Field(
        default="nginx",
        description="IngressClass: `nginx` (any cluster), `gce-internal` / `gce` (GKE's internal / external "
        f"Application Load Balancer), `{AKS_APP_ROUTING_CLASS}` (AKS application routing, enabled by the azure "
        "program), …",
    )
    cluster_issuer: str | None = Field(
        default=None, description="cert-manager ClusterIssuer that issues the certificate; empty: `tls_secret` exists."
    )
    managed_certificate: bool = Field(
        default=False,
        description="Target gcp with class `gce`: a Google-managed certificate for `host` (ManagedCertificate) "
        "instead of `tls_secret`.",
    )
    tls_secret: str = Field(default="gatekit-tls", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    controller_namespace: str | None = Field(
        default="ingress-nginx",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Namespace of the in-cluster ingress controller; the gateway's NetworkPolicy admits its pods. "
        "Empty for a cloud load balancer that reaches the pods directly (GKE `gce`, `gce-internal`: the NetworkPolicy "
        "admits Google's front-end, health-check and proxy-only ranges itself).",
    )


class Exposure(BaseModel):
    """The reachable surface of the gateway and the request bodies it survives."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    paths: list[PathPattern] = Field(
        default_factory=lambda: list(DEFAULT_PATHS),
        min_length=1,
        description="Paths anyone who reaches the listener may call (a trailing `*` matches a prefix). Default: the "
        "inference API and the health probes. Everything else (docs, OpenAPI, UI, management API) answers 404.",
    )
    admin_cidrs: list[str] = Field(
        default_factory=list,
        description="Client networks that may reach every path (UI, docs, management API). Empty: nobody. The client "
        "address is taken from X-Forwarded-For only when the peer is in `trusted_proxy_ranges`.",
    )
    trusted_proxy_ranges: list[str] | None = Field(
        default=None,
        description="Proxies (load balancers) whose X-Forwarded-For is believed. Empty: derived from the network "
        "(`network.cidr` on AWS targets, where the ALB lives; none elsewhere).",
    )
    max_body_bytes: int = Field(
        default=4 * MIB,
        ge=1024,
        le=512 * MIB,
        description="Largest request body; larger ones get 413 before any in-flight slot is taken.",
    )
    body_read_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description="Deadline for receiving a whole request body; slower clients get 408 and hold no in-flight slot.",
    )

    client_requests_per_5min: int = Field(
        default=3000,
        ge=100,
        le=2_000_000_000,
        description="Requests one client address may make in 5 minutes before it is refused: the AWS WAF rate-based "
        "rule, and on GKE's external load balancer the Cloud Armor throttle (429 beyond it).",
    )

    ingress: IngressFrontDoor | None = Field(
        default=None,
        description="Kubernetes targets: an Ingress with TLS routing only `paths` (gatekit.render.k8s_ingress); the "
        "gateway Service then stays ClusterIP behind it.",
    )

    @field_validator("admin_cidrs")
    @classmethod
    def _admin_cidrs(cls, values: list[str]) -> list[str]:
        return [_cidr(v) for v in values]

    @field_validator("trusted_proxy_ranges")
    @classmethod
    def _proxy_ranges(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else [_cidr(v) for v in values]


def path_exposed(path: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """True when `path` matches one of the exposure patterns (exact, or a prefix for a trailing `*`)."""
    for pattern in patterns:
        if pattern.endswith("*"):
            if path.startswith(pattern[:-1]):
                return True
        elif path == pattern:
            return True
    return False


def trusted_proxies(env: Environment) -> list[str]:
    """The proxy ranges the runtime believes X-Forwarded-For from, resolved from the network config."""
    from gatekit.config.environment import AWS_TARGETS

    exposure = env.gateway.exposure
    if exposure.trusted_proxy_ranges is not None:
        return list(exposure.trusted_proxy_ranges)
    if env.target in AWS_TARGETS or env.target == "moat":
        return [env.network.cidr]  # the ALB's nodes live in the VPC's subnets
    return []
