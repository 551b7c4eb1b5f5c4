"""The RDS CA bundle the AWS targets verify Aurora against (security, issue 12: no unverified database TLS).

GCP and Azure know their database's CA at deploy time (Cloud SQL's server CA, Azure's public roots in certifi); the
RDS roots are neither in an output nor in any package gatekit ships, so the operator supplies them:
`database.ca_bundle` names a PEM file (the RDS certificate bundle for the region, from the RDS documentation;
public data, kept in the config repository). The deployment carries its certificates to the gateway and its
migrations (cdk.gateway_ecs_stack.database_environment), which connect with `sslmode=verify-full` against them.

- Every check that needs no file runs in `gatekit config validate` and in each replica (`database_ca_findings`): a
  managed AWS database (gatekit-created Aurora or `database.existing`) without `database.ca_bundle` is an error.
- The file itself is read where the deployment is built (`read_ca_bundle`: CDK synth, `config validate --deploy`):
  missing, not PEM certificates, larger than a task definition carries, or not a CA each fail with what to set.
- The shipped environments name `EXAMPLE_BUNDLE`, a certificate no RDS server chains to; the deploy paths refuse it
  like the other example values (gatekit.config.placeholders)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gatekit.config.environment import AWS_TARGETS, Environment

Finding = tuple[str, str]
FIELD = "database.ca_bundle"
MANAGED_TARGETS = AWS_TARGETS | {"moat"}
EXAMPLE_BUNDLE = "config/certs/rds-ca.example.pem"
EXAMPLE_SUBJECT_MARK = "gatekit example"
# A task definition's container definitions are at most 64 KiB in all; a region's bundle is a few KiB (the global
# bundle of every region is not, and is not needed).
MAX_BUNDLE_BYTES = 16 * 1024
WHERE = "the RDS certificate bundle for your region from the RDS documentation"


class CaBundleError(ValueError):
    """`database.ca_bundle` does not name a usable CA bundle."""


def needs_ca_bundle(env: Environment) -> bool:
    """A database gatekit connects to over RDS's TLS: Aurora created by gatekit or `database.existing`."""
    return env.target in MANAGED_TARGETS and env.database.enabled


def database_ca_findings(env: Environment) -> Iterator[Finding]:
    if needs_ca_bundle(env) and not env.database.ca_bundle:
        yield (
            FIELD,
            f"target `{env.target}` connects to Aurora with sslmode=verify-full: set {FIELD} to a PEM file holding "
            f"{WHERE} (public data; keep it in the config repository)",
        )
    if env.database.ca_bundle and env.target not in MANAGED_TARGETS:
        yield FIELD, f"applies to targets {', '.join(sorted(MANAGED_TARGETS))} (not `{env.target}`)"


def is_example_bundle(env: Environment) -> bool:
    """The shipped example (by name, or a certificate whose subject says it is gatekit's example)."""
    from cryptography import x509

    path = env.database.ca_bundle
    if not path:
        return False
    if Path(path).name == Path(EXAMPLE_BUNDLE).name:
        return True
    try:
        certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError):
        return False  # unreadable or not PEM: deploy_findings names that
    return any(EXAMPLE_SUBJECT_MARK in c.subject.rfc4514_string() for c in certs)


def read_ca_bundle(env: Environment) -> str:
    """The CA certificates of `database.ca_bundle` as PEM (comments dropped), checked: one or more CA certificates,
    small enough to carry in a task definition."""
    from cryptography import x509

    path = env.database.ca_bundle
    if not path:
        raise CaBundleError(f"{FIELD} is not set: set it to a PEM file holding {WHERE}")
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CaBundleError(f"{FIELD}: cannot read `{path}` ({exc.strerror}); it should hold {WHERE}") from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise CaBundleError(
            f"{FIELD}: `{path}` is {len(data)} bytes (at most {MAX_BUNDLE_BYTES}): use {WHERE}, not the global bundle"
        )
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CaBundleError(f"{FIELD}: `{path}` holds no PEM certificate; it should hold {WHERE}") from None
    for cert in certs:
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise CaBundleError(
                f"{FIELD}: `{path}` holds `{cert.subject.rfc4514_string()}`, which is not a CA certificate; "
                f"it should hold {WHERE}"
            )
    from cryptography.hazmat.primitives.serialization import Encoding

    return "".join(c.public_bytes(Encoding.PEM).decode() for c in certs)  # the certificates only, no comments


def deploy_findings(env: Environment) -> Iterator[Finding]:
    """What the deploy paths refuse beyond `database_ca_findings`: an unreadable or invalid bundle."""
    if not needs_ca_bundle(env) or not env.database.ca_bundle:
        return
    try:
        read_ca_bundle(env)
    except CaBundleError as exc:
        yield FIELD, str(exc).removeprefix(f"{FIELD}: ")
