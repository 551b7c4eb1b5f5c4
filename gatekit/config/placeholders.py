"""Example values the shipped environments carry where only the operator knows the real one (security, issue 12).

The shipped files name an ACM Private CA, a hosted zone, a domain, image digests and a project that do not exist, so
that they validate and synthesize as examples. A deployment with any of them would wait for a certificate that never
issues, pull nothing, or serve a name nobody owns; the deploy paths refuse them with what to set instead:

- `cdk deploy` / `cdk synth` through app.py (every AWS environment; `-c allow_placeholders=true` for a dry synth),
- the Pulumi program on `pulumi up` (a preview still runs with them),
- `gatekit config validate --deploy`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gatekit.config.database_ca import deploy_findings, is_example_bundle, needs_ca_bundle
from gatekit.config.environment import Environment

Finding = tuple[str, str]
EXAMPLE_ACCOUNT = "123456789012"
EXAMPLE_UUID = "00000000-0000-4000-8000-000000000000"
ZERO_DIGEST = re.compile(r"@sha256:0{64}$")
EXAMPLE_DOMAIN = re.compile(r"(^|\.)example(\.(com|net|org))?$")


def _arn_placeholder(arn: str | None) -> bool:
    return bool(arn) and (f":{EXAMPLE_ACCOUNT}:" in arn or EXAMPLE_UUID in arn)  # type: ignore[operator]


def placeholder_findings(env: Environment) -> Iterator[Finding]:
    domain = env.domain
    if domain is not None:
        if EXAMPLE_DOMAIN.search(domain.name):
            yield "domain.name", f"`{domain.name}` is the example domain: set the name your clients use"
        if _arn_placeholder(domain.private_ca_arn):
            yield (
                "domain.private_ca_arn",
                "the example ACM Private CA: set your CA's ARN (or domain.certificate_arn to an imported certificate)",
            )
        if _arn_placeholder(domain.certificate_arn):
            yield "domain.certificate_arn", "the example certificate: set the ARN of your ACM certificate"
        if domain.hosted_zone_id and "EXAMPLE" in domain.hosted_zone_id.upper():
            yield (
                "domain.hosted_zone_id",
                f"`{domain.hosted_zone_id}` is the example hosted zone: set the Route 53 zone id that holds "
                f"`{domain.name}`",
            )
    door = env.gateway.exposure.ingress
    if door is not None and EXAMPLE_DOMAIN.search(door.host):
        yield "gateway.exposure.ingress.host", f"`{door.host}` is the example domain: set the name your clients use"
    if env.aws is not None and env.aws.account == EXAMPLE_ACCOUNT:
        yield "aws.account", f"{EXAMPLE_ACCOUNT} is the example account: set yours, or leave it empty"
    if env.gcp is not None and "example" in env.gcp.project:
        yield "gcp.project", f"`{env.gcp.project}` is the example project: set your GCP project id"
    if env.compute.image and ZERO_DIGEST.search(env.compute.image):
        yield "compute.image", "the example digest pulls nothing: set the digest your image push printed"
    if needs_ca_bundle(env) and is_example_bundle(env):
        yield (
            "database.ca_bundle",
            "the example CA no RDS server chains to: set it to a PEM file holding the RDS certificate bundle for "
            "your region from the RDS documentation",
        )
    yield from deploy_findings(env)  # an unreadable or invalid bundle fails the deploy paths too
    if ZERO_DIGEST.search(env.observability.collector_image):
        yield (
            "observability.collector_image",
            "the example digest pulls nothing: set the digest of the collector image mirrored into your registry",
        )


def placeholder_report(env: Environment) -> str | None:
    """A message naming every example value of `env`, or None."""
    found = list(placeholder_findings(env))
    if not found:
        return None
    lines = "\n".join(f"  {path}: {message}" for path, message in found)
    return f"environment `{env.name}` still has example values; set them before deploying:\n{lines}"
