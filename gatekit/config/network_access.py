"""Who may reach the gateway's listener: `network.allowed_ingress_cidrs` as every target reads it (security,
issue 12: secure by default).

- Unset (the default), an internal listener admits the environment's network (`network.cidr`; AWS internal ALBs, the
  NGINX allow-list and NetworkPolicy on Kubernetes). GKE's internal load balancer admits the VPC and the networks
  connected to it and cannot be narrowed (gatekit.config.tls_checks).
- A public listener (an internet-facing ALB, GKE's external load balancer, AKS/Kubernetes with `network.mode:
  public`) has no safe default: validation refuses it until the operator names the client networks, or writes
  `[0.0.0.0/0]` to admit the whole internet on purpose."""

from __future__ import annotations

from collections.abc import Iterator

from gatekit.config.environment import AWS_TARGETS, Environment

Finding = tuple[str, str]


def public_listener(env: Environment) -> bool:
    """Whether the gateway's listener has an internet-facing address."""
    if env.target == "local":
        return False
    if env.target in AWS_TARGETS or env.target == "moat":
        if env.network.existing is not None and not env.network.existing.public_subnets:
            return False  # estate (issue 18): an existing VPC without public subnets gets an internal load balancer
        # Internet-facing HTTPS needs a domain (for the certificate) and a network with an internet route.
        return env.domain is not None and not env.domain.internal and env.network.mode != "isolated"
    if env.target == "gcp":
        door = env.gateway.exposure.ingress
        return door is not None and door.class_name == "gce"
    return env.network.mode == "public"  # azure (application routing's public load balancer), any Kubernetes


def ingress_cidrs(env: Environment) -> list[str]:
    """The client networks the listener admits: the ones named, else the environment's network."""
    named = env.network.allowed_ingress_cidrs
    return list(named) if named is not None else [env.network.cidr]


def network_access_findings(env: Environment) -> Iterator[Finding]:
    if env.network.allowed_ingress_cidrs is None and public_listener(env):
        yield (
            "network.allowed_ingress_cidrs",
            f"target `{env.target}` has an internet-facing listener and no client networks: name them (e.g. "
            "[203.0.113.0/24]) or set [0.0.0.0/0] to admit the whole internet on purpose",
        )
