"""The policy pack's validators, called directly: one compliant and one violating resource per policy, and the
CrossGuard wrappers the pack in pulumi/policy serves."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs

from gatekit.clouds.policy import POLICIES, STACK_POLICIES, Context, Secret, check
from gatekit.clouds.policy_pack import crossguard_policies
from tests.pulumi.test_policy_exposure import EXPOSURE_CASES

MARKED = Context(secrets_marked=True)
LABELS = {"project": "gatekit", "environment": "gcp", "owner": "platform"}
POLICY = {p.name: p for p in POLICIES}

SQL_OK = {
    "settings": {
        "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": "vpc", "sslMode": "ENCRYPTED_ONLY"},
        "userLabels": LABELS,
    }
}
SQL_PUBLIC = {"settings": {"ipConfiguration": {"ipv4Enabled": True, "sslMode": "ENCRYPTED_ONLY"}, "userLabels": LABELS}}
SQL_PLAIN = {"settings": {"ipConfiguration": {"ipv4Enabled": False, "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}}}

# policy -> (type, compliant props, violating props, words the violation names)
CASES: dict[str, list[tuple[str, dict[str, Any], dict[str, Any], str]]] = {
    "encryption-at-rest": [
        (
            "gcp:container/cluster:Cluster",
            {"databaseEncryption": {"state": "ENCRYPTED", "keyName": "k"}},
            {"databaseEncryption": {"state": "DECRYPTED"}},
            "KMS",
        ),
        (
            "azure-native:storage:StorageAccount",
            {"encryption": {"requireInfrastructureEncryption": True}},
            {"encryption": {"requireInfrastructureEncryption": False}},
            "infrastructure",
        ),
        ("azure-native:dbforpostgresql:Server", {"dataEncryption": {"type": "SystemManaged"}}, {}, "dataEncryption"),
    ],
    "no-public-data-endpoints": [
        ("gcp:sql/databaseInstance:DatabaseInstance", SQL_OK, SQL_PUBLIC, "public IPv4"),
        (
            "gcp:redis/instance:Instance",
            {"connectMode": "PRIVATE_SERVICE_ACCESS"},
            {"connectMode": "DIRECT_PEERING"},
            "private",
        ),
        (
            "azure-native:dbforpostgresql:Server",
            {"network": {"publicNetworkAccess": "Disabled"}},
            {"network": {"publicNetworkAccess": "Enabled"}},
            "public network",
        ),
        ("azure-native:redis:Redis", {"publicNetworkAccess": "Disabled"}, {"publicNetworkAccess": "Enabled"}, "public"),
    ],
    "tls-required": [
        ("gcp:sql/databaseInstance:DatabaseInstance", SQL_OK, SQL_PLAIN, "TLS"),
        (
            "gcp:redis/instance:Instance",
            {"transitEncryptionMode": "SERVER_AUTHENTICATION"},
            {"transitEncryptionMode": "DISABLED"},
            "in-transit",
        ),
        (
            "azure-native:redis:Redis",
            {"enableNonSslPort": False, "minimumTlsVersion": "1.2"},
            {"enableNonSslPort": True, "minimumTlsVersion": "1.2"},
            "non-TLS port",
        ),
        (
            "azure-native:storage:StorageAccount",
            {"enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2"},
            {"enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_0"},
            "TLS 1.2",
        ),
        (
            "azure-native:dbforpostgresql:Configuration",
            {"configurationName": "require_secure_transport", "value": "on"},
            {"configurationName": "require_secure_transport", "value": "off"},
            "require_secure_transport",
        ),
    ],
    "no-plaintext-secrets": [
        ("gcp:sql/user:User", {"password": Secret("pw")}, {"password": "pw"}, "password"),
        (
            "azure-native:keyvault:Secret",
            {"properties": Secret({"value": "v"})},
            {"properties": {"value": "v"}},
            "properties.value",
        ),
        (
            "kubernetes:apps/v1:Deployment",
            {
                "metadata": {"labels": LABELS},
                "spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "valueFrom": {}}]}]},
            },
            {
                "metadata": {"labels": LABELS},
                "spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "value": "x"}]}]},
            },
            "valueFrom",
        ),
        (
            "kubernetes:core/v1:ConfigMap",
            {"metadata": {"labels": LABELS}, "data": {"url": "postgresql://db:5432/x"}},
            {"metadata": {"labels": LABELS}, "data": {"url": "postgresql://u:hunter2@db:5432/x"}},
            "embedded password",
        ),
    ],
    "required-labels": [
        ("gcp:storage/bucket:Bucket", {"labels": LABELS}, {"labels": {"project": "gatekit"}}, "environment, owner"),
        ("azure-native:redis:Redis", {"tags": LABELS}, {}, "project"),
        ("kubernetes:core/v1:Service", {"metadata": {"labels": LABELS}}, {"metadata": {"labels": {"a": "b"}}}, "label"),
    ],
}


# The exposure policies (tests/pulumi/test_policy_exposure.py), added before the cases below are parametrized.
CASES.update(EXPOSURE_CASES)


@pytest.mark.parametrize(
    ("policy", "typ", "good", "bad", "words"),
    [(policy, *case) for policy, cases in CASES.items() for case in cases],
    ids=lambda v: v if isinstance(v, str) and len(v) < 50 else "",
)
def test_policy_accepts_compliant_and_rejects_violating(
    policy: str, typ: str, good: dict[str, Any], bad: dict[str, Any], words: str
) -> None:
    validate = POLICY[policy].validate
    assert validate(typ, good, MARKED) == []
    messages = validate(typ, bad, MARKED)
    assert messages, f"{policy} let a violating {typ} through"
    assert any(words in m for m in messages), messages


def test_every_policy_has_cases() -> None:
    assert set(CASES) == set(POLICY)
    assert all(p.mandatory for p in POLICIES)


def test_unrelated_types_are_not_judged() -> None:
    assert check("random:index/randomId:RandomId", "x", {"byteLength": 3}, MARKED) == []


def test_secret_marking_is_only_required_where_it_is_visible() -> None:
    unmarked = Context(secrets_marked=False)  # CrossGuard: the engine unwraps secrets before policies see them
    assert POLICY["no-plaintext-secrets"].validate("gcp:sql/user:User", {"password": "pw"}, unmarked) == []
    assert POLICY["no-plaintext-secrets"].validate("gcp:sql/user:User", {"password": "pw"}, MARKED)


def test_required_tags_come_from_the_context() -> None:
    ctx = Context(required_tags=("team",))
    assert POLICY["required-labels"].validate("gcp:storage/bucket:Bucket", {"labels": LABELS}, ctx)
    assert not POLICY["required-labels"].validate("gcp:storage/bucket:Bucket", {"labels": {"team": "x"}}, ctx)


def _crossguard(name: str, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    policy = next(p for p in crossguard_policies() if p.name == name)
    reported: list[str] = []
    args = ResourceValidationArgs(typ, props, f"urn:pulumi:s::p::{typ}::r", "r", None, None, config)  # type: ignore[arg-type]
    policy.validate(args, lambda message, urn=None: reported.append(message))  # type: ignore[misc,operator]
    return reported


def test_crossguard_pack_reports_through_the_same_validators() -> None:
    assert {p.name for p in crossguard_policies()} == set(POLICY) | {p.name for p in STACK_POLICIES}
    assert _crossguard("no-public-data-endpoints", "gcp:sql/databaseInstance:DatabaseInstance", SQL_OK) == []
    assert _crossguard("no-public-data-endpoints", "gcp:sql/databaseInstance:DatabaseInstance", SQL_PUBLIC)
    assert _crossguard("required-labels", "gcp:storage/bucket:Bucket", {"labels": LABELS}, {"requiredTags": ["team"]})
    # Under CrossGuard a plaintext value in a secret property cannot be told from an unwrapped secret.
    assert _crossguard("no-plaintext-secrets", "gcp:sql/user:User", {"password": "pw"}) == []
