"""TLS rules that fail validation loudly: every listener outside `local` is TLS, and its certificate can be issued.

- moat and isolated networks need `domain` here; other AWS targets fail at synth without one (cdk.load_balancer):
  the ALB listens on HTTPS only (internal load balancers too, `domain.internal`).
- A certificate comes from `certificate_arn` (imported or issued elsewhere), `private_ca_arn` (ACM Private CA), or DNS
  validation in `hosted_zone_id`. A domain with none of them used to leave the certificate pending validation and
  the deploy waiting for hours; it is now an error naming the three ways out.
- moat (the high-assurance, air-gapped environment) refuses DNS validation: an imported or private-CA certificate.
- gcp, azure and k8s serve through `gateway.exposure.ingress` only (an Ingress with TLS; the Service stays ClusterIP):
  without one the gateway would have no TLS listener. GKE's load balancers reach the pods directly (no controller
  namespace), its external one (`gce`) needs `network.mode: public`, and a Google-managed certificate needs `gce`.
  Only `gce` on target gcp can restrict client addresses (Cloud Armor, gatekit.clouds.gcp_armor): elsewhere GKE's
  load balancers refuse `network.allowed_ingress_cidrs` rather than ignore it."""

from __future__ import annotations

from collections.abc import Iterator

from gatekit.config.environment import AWS_TARGETS, Environment
from gatekit.config.exposure import GCE_CLASSES

Finding = tuple[str, str]
WAYS = (
    "set domain.certificate_arn (imported certificate), domain.private_ca_arn (ACM Private CA) or domain.hosted_zone_id"
)


INGRESS_TARGETS = frozenset({"gcp", "azure", "k8s"})


def ingress_findings(env: Environment) -> Iterator[Finding]:
    """The TLS front door of the Kubernetes targets (gatekit.render.k8s_ingress)."""
    door = env.gateway.exposure.ingress
    path = "gateway.exposure.ingress"
    if door is None:
        yield (
            path,
            f"target `{env.target}` serves TLS only, through an Ingress: set gateway.exposure.ingress (host, "
            "class_name and a certificate: cluster_issuer, tls_secret or, on GKE, managed_certificate)",
        )
        return
    if door.class_name in GCE_CLASSES and door.controller_namespace:
        yield (
            f"{path}.controller_namespace",
            f"class `{door.class_name}`: GKE's load balancer reaches the pods directly; set controller_namespace: null",
        )
    if door.class_name == "gce" and env.network.mode != "public":
        yield (
            f"{path}.class_name",
            f"class `gce` is an internet-facing load balancer but network.mode is `{env.network.mode}`: use "
            "`gce-internal`",
        )
    unenforceable = door.class_name in GCE_CLASSES and (env.target != "gcp" or door.class_name == "gce-internal")
    named = env.network.allowed_ingress_cidrs
    if unenforceable and named is not None and not any(c.endswith("/0") for c in named):
        why = (
            "its regional backend service takes no Cloud Armor policy from GKE"
            if door.class_name == "gce-internal"
            else "only target gcp renders the Cloud Armor policy that would enforce it"
        )
        yield (
            "network.allowed_ingress_cidrs",
            f"class `{door.class_name}` cannot restrict client addresses ({why}; the pods see the load "
            "balancer's proxies, not the clients): remove the setting (the internal load balancer admits the "
            "VPC and the networks connected to it) or use class `gce` on target gcp (Cloud Armor)",
        )
    if door.managed_certificate and (env.target != "gcp" or door.class_name != "gce"):
        yield (
            f"{path}.managed_certificate",
            "a Google-managed certificate needs target gcp and class `gce` (internal load balancers take tls_secret)",
        )


def tls_findings(env: Environment) -> Iterator[Finding]:
    if env.target in INGRESS_TARGETS:
        yield from ingress_findings(env)
        return
    if env.target not in AWS_TARGETS | {"moat"}:
        return
    domain = env.domain
    if domain is None:
        # aws-ecs without a domain fails at synth (cdk.load_balancer: HTTPS only); moat fails here, before any build.
        if env.target == "moat" or env.network.mode == "isolated":
            yield "domain", f"target `{env.target}` serves HTTPS only: set `domain` (name, internal, and a certificate)"
        return
    if not (domain.certificate_arn or domain.private_ca_arn or domain.hosted_zone_id):
        yield (
            "domain",
            f"no way to issue the certificate for `{domain.name}` (DNS validation without a hosted zone never "
            f"completes and blocks the deploy): {WAYS} (DNS validation)",
        )
    if domain.certificate_arn and domain.private_ca_arn:
        yield "domain.private_ca_arn", "set one of certificate_arn and private_ca_arn"
    if env.target == "moat" or env.network.mode == "isolated":
        if not (domain.certificate_arn or domain.private_ca_arn):
            yield "domain", "an isolated network cannot validate by DNS: set certificate_arn or private_ca_arn"
        if not domain.internal:
            yield "domain.internal", "an isolated network has no internet-facing load balancer: set `internal: true`"
