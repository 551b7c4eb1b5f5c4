"""Policy validators shared by the CrossGuard pack (pulumi/policy) and `gatekit pulumi plan`.

Each validator takes a resource type token and its input properties (camelCase, as the engine sees them) and
returns violation messages. In `gatekit pulumi plan` secret inputs arrive wrapped in `Secret`, so "is this value
a Pulumi secret" is checked too; under CrossGuard the engine unwraps secrets before policies see them, so that one
check runs in plan only (the value scans run in both).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from gatekit.clouds.policy_base import Context, Policy, Secret, Validator, dicts, get, mapping
from gatekit.clouds.policy_exposure import EXPOSURE_POLICIES
from gatekit.clouds.policy_stack import STACK_POLICIES, StackResource
from gatekit.config.secrets import is_secret_field, looks_like_secret

__all__ = [
    "POLICIES",
    "STACK_POLICIES",
    "Context",
    "Policy",
    "Secret",
    "StackResource",
    "Validator",
    "Violation",
    "check",
    "check_stack",
    "get",
]


def _encryption_at_rest(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    if typ == "gcp:container/cluster:Cluster":
        if get(props, "databaseEncryption.state") != "ENCRYPTED" or not get(props, "databaseEncryption.keyName"):
            out.append("GKE secrets in etcd must be encrypted with a KMS key (databaseEncryption.state ENCRYPTED)")
    elif typ == "azure-native:storage:StorageAccount":
        if get(props, "encryption.requireInfrastructureEncryption") is not True:
            out.append("storage account must require infrastructure (double) encryption at rest")
    elif typ == "azure-native:dbforpostgresql:Server":
        if not get(props, "dataEncryption.type"):
            out.append("PostgreSQL server must declare its data encryption (dataEncryption.type)")
    elif (
        typ == "gcp:storage/bucket:Bucket"
        and get(props, "encryption")
        and not get(props, "encryption.defaultKmsKeyName")
    ):
        out.append("bucket encryption block needs defaultKmsKeyName")
    return out


def _no_public_endpoints(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    if typ == "gcp:sql/databaseInstance:DatabaseInstance":
        if get(props, "settings.ipConfiguration.ipv4Enabled") is not False:
            out.append("Cloud SQL must not have a public IPv4 address (settings.ipConfiguration.ipv4Enabled false)")
        if get(props, "settings.ipConfiguration.authorizedNetworks"):
            out.append("Cloud SQL must not have authorized public networks")
    elif typ == "gcp:redis/instance:Instance":
        if get(props, "connectMode") != "PRIVATE_SERVICE_ACCESS":
            out.append("Memorystore must connect through private service access")
    elif typ == "azure-native:dbforpostgresql:Server":
        if get(props, "network.publicNetworkAccess") != "Disabled":
            out.append("PostgreSQL Flexible Server must disable public network access")
    elif typ == "azure-native:redis:Redis" and get(props, "publicNetworkAccess") != "Disabled":
        out.append("Azure Cache for Redis must disable public network access")
    return out


def _tls_required(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    if typ == "gcp:sql/databaseInstance:DatabaseInstance":
        if get(props, "settings.ipConfiguration.sslMode") not in (
            "ENCRYPTED_ONLY",
            "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
        ):
            out.append("Cloud SQL must only accept TLS connections (sslMode ENCRYPTED_ONLY)")
    elif typ == "gcp:redis/instance:Instance":
        if get(props, "transitEncryptionMode") != "SERVER_AUTHENTICATION":
            out.append("Memorystore must use in-transit encryption (transitEncryptionMode SERVER_AUTHENTICATION)")
    elif typ == "azure-native:redis:Redis":
        if get(props, "enableNonSslPort") is True:
            out.append("Azure Cache for Redis must not open the non-TLS port")
        if get(props, "minimumTlsVersion") != "1.2":
            out.append("Azure Cache for Redis must require TLS 1.2")
    elif typ == "azure-native:storage:StorageAccount":
        if get(props, "enableHttpsTrafficOnly") is not True:
            out.append("storage account must accept HTTPS only")
        if get(props, "minimumTlsVersion") != "TLS1_2":
            out.append("storage account must require TLS 1.2")
    elif (
        typ == "azure-native:dbforpostgresql:Configuration"
        and get(props, "configurationName") == "require_secure_transport"
        and str(get(props, "value")).lower() != "on"
    ):
        out.append("PostgreSQL must keep require_secure_transport on")
    return out


# Properties that carry a secret value by nature: they must be Pulumi secrets.
SECRET_PROPS: dict[str, tuple[str, ...]] = {
    "gcp:sql/user:User": ("password",),
    "gcp:secretmanager/secretVersion:SecretVersion": ("secretData",),
    "azure-native:dbforpostgresql:Server": ("administratorLoginPassword",),
    "azure-native:keyvault:Secret": ("properties.value",),
    "kubernetes:core/v1:Secret": ("data", "stringData"),
}


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, Secret):
        return
    if isinstance(node, dict):
        for key, value in cast(dict[Any, Any], node).items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(cast(list[Any], node)):
            yield from _strings(value, f"{path}.{i}")
    elif isinstance(node, str):
        yield path, node


def _env_lists(node: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    if isinstance(node, dict):
        for key, value in cast(dict[Any, Any], node).items():
            child = f"{path}.{key}" if path else str(key)
            if key == "env" and isinstance(value, list):
                yield child, cast(list[Any], value)
            else:
                yield from _env_lists(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(cast(list[Any], node)):
            yield from _env_lists(value, f"{path}.{i}")


def _in_clear(props: dict[str, Any], path: str) -> bool:
    """A value exists at `path` and neither it nor any object around it is a secret."""
    node: Any = props
    for part in path.split("."):
        if isinstance(node, Secret) or not isinstance(node, dict):
            return False
        node = cast(dict[str, Any], node).get(part)
    return node is not None and not isinstance(node, Secret)


def _no_plaintext_secrets(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    secret_paths = SECRET_PROPS.get(typ, ())
    for path in secret_paths:
        if ctx.secrets_marked and _in_clear(props, path):
            out.append(f"`{path}` holds a secret in clear; make it a Pulumi secret (pulumi.Output.secret)")
    if typ.startswith("kubernetes:"):
        for path, entries in _env_lists(props):
            for entry in dicts(entries):
                if "value" in entry and is_secret_field(str(entry.get("name", ""))):
                    out.append(f"{path}: `{entry.get('name')}` is a secret passed as a literal; use valueFrom")
    for path, value in _strings(props):
        if any(path == p or path.startswith(p + ".") for p in secret_paths):
            continue
        label = looks_like_secret(value)
        if label:
            out.append(f"`{path}` looks like {label} in clear")
    return out


# Where each taggable type keeps its labels or tags.
LABEL_PROPS: dict[str, str] = {
    "gcp:container/cluster:Cluster": "resourceLabels",
    "gcp:sql/databaseInstance:DatabaseInstance": "settings.userLabels",
    "gcp:redis/instance:Instance": "labels",
    "gcp:storage/bucket:Bucket": "labels",
    "gcp:secretmanager/secret:Secret": "labels",
    "gcp:kms/cryptoKey:CryptoKey": "labels",
    "azure-native:resources:ResourceGroup": "tags",
    "azure-native:network:VirtualNetwork": "tags",
    "azure-native:network:PrivateEndpoint": "tags",
    "azure-native:containerservice:ManagedCluster": "tags",
    "azure-native:dbforpostgresql:Server": "tags",
    "azure-native:redis:Redis": "tags",
    "azure-native:storage:StorageAccount": "tags",
    "azure-native:keyvault:Vault": "tags",
    "azure-native:managedidentity:UserAssignedIdentity": "tags",
    "azure-native:operationalinsights:Workspace": "tags",
    "azure-native:applicationinsights:Component": "tags",
}


def _required_labels(typ: str, props: dict[str, Any], ctx: Context) -> list[str]:
    if typ.startswith("kubernetes:") and not typ.startswith("kubernetes:helm") and typ != "pulumi:providers:kubernetes":
        path = "metadata.labels"
    elif typ in LABEL_PROPS:
        path = LABEL_PROPS[typ]
    else:
        return []
    labels = mapping(get(props, path))
    missing = [t for t in ctx.required_tags if not labels.get(t)]
    return (
        [f"`{path}` lacks required {'label' if 'abel' in path else 'tag'}(s) {', '.join(missing)}"] if missing else []
    )


POLICIES: tuple[Policy, ...] = (
    Policy("encryption-at-rest", "Data stores and cluster secrets are encrypted at rest.", _encryption_at_rest),
    Policy(
        "no-public-data-endpoints", "Databases and caches are reachable on private networks only.", _no_public_endpoints
    ),
    Policy("tls-required", "Databases, caches and storage accept TLS connections only.", _tls_required),
    Policy("no-plaintext-secrets", "Secrets are Pulumi secrets or secret-store references.", _no_plaintext_secrets),
    Policy("required-labels", "Every taggable resource carries the required labels/tags.", _required_labels),
    *EXPOSURE_POLICIES,
)


@dataclass(frozen=True)
class Violation:
    policy: str
    resource_type: str
    resource_name: str
    message: str
    mandatory: bool


def check(typ: str, name: str, props: dict[str, Any], ctx: Context) -> list[Violation]:
    return [
        Violation(p.name, typ, name, message, p.mandatory) for p in POLICIES for message in p.validate(typ, props, ctx)
    ]


def check_stack(resources: Sequence[StackResource]) -> list[Violation]:
    """The stack policies (gatekit.clouds.policy_stack), each violation on the resource it names."""
    types = {r.name: r.type for r in resources}
    return [
        Violation(p.name, types[name], name, message, p.mandatory)
        for p in STACK_POLICIES
        for name, message in p.validate(resources)
    ]
