"""The gateway ComponentResource: typed args, children named relative to the component (two gateways in one stack
do not collide) and parented to it, and the pre-component logical names kept as aliases (an `up` does not replace)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gatekit.clouds.component import GatewayArgs, GatewayComponent, manifest_key
from gatekit.clouds.plan import SETTINGS
from gatekit.config import Environment
from tests.pulumi.conftest import environment, use_mocks


def record_registrations() -> list[Any]:
    """Every RegisterResource request the program sends (name, type, parent URN, alias specs)."""
    requests: list[Any] = []
    monitor = SETTINGS.monitor
    register = monitor.RegisterResource

    def recording(request: Any) -> Any:
        requests.append(request)
        return register(request)

    monitor.RegisterResource = recording
    return requests


def test_two_gateways_in_one_stack_have_distinct_children_parented_to_their_component() -> None:
    mocks = use_mocks("k8s")
    requests = record_registrations()
    blue, green = environment("k8s"), environment("k8s", "deployment.prefix=green")
    args = GatewayArgs(create_namespace=True)  # both create the same Namespace object: the worst case for names
    assert blue.kubernetes.namespace == green.kubernetes.namespace

    @pulumi.runtime.test
    def build() -> pulumi.Output[list[str]]:
        provider = k8s.Provider("cluster")
        first = GatewayComponent("blue", blue, args, provider=provider)
        second = GatewayComponent("green", green, args, provider=provider)
        return pulumi.Output.all(first.urn, second.urn)

    build()  # runs the program to completion under the mocks

    children = [r for r in requests if r.type.startswith("kubernetes:") and r.type != "pulumi:providers:kubernetes"]
    names = [r.name for r in children]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    by_owner = {owner: [r for r in children if r.name.startswith(f"{owner}-")] for owner in ("blue", "green")}
    assert by_owner["blue"] and len(by_owner["blue"]) == len(by_owner["green"])
    assert len(by_owner["blue"]) + len(by_owner["green"]) == len(children)
    # Without the owner prefix the two Namespaces (and nothing else, prefixes differ) would share a logical name.
    unprefixed = [n.split("-", 1)[1] for n in names]
    assert any(unprefixed.count(n) > 1 for n in unprefixed)
    for owner, registered in by_owner.items():
        for request in registered:
            assert request.parent.endswith(f"::{owner}"), (request.name, request.parent)
            # (pulumi_kubernetes adds type aliases of its own, e.g. older apiVersions: those carry no name)
            aliases = [alias.spec.name for alias in request.aliases if alias.spec.name]
            assert aliases == [request.name.removeprefix(f"{owner}-")], (request.name, aliases)
    assert len(mocks.resources) >= len(children)


def test_the_alias_is_the_name_the_manifest_had_before() -> None:
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": "ns", "name": "gw"}}
    assert manifest_key(manifest) == "deployment-ns-gw"
    cluster_scoped = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}
    assert manifest_key(cluster_scoped) == "namespace-cluster-ns"


@dataclass
class UnitTree:
    """One program's registrations, sorted into its units, the resources inside them and the stack's root."""

    env: Environment
    units: dict[str, str]  # unit name -> component type
    inside: list[Any]  # requests parented to a unit
    root: set[str]  # types registered at the stack's root


def unit_tree(stack: str, deploy: Callable[[Environment], object]) -> UnitTree:
    use_mocks(stack)
    requests = record_registrations()
    env = environment(stack)

    @pulumi.runtime.test
    def build() -> None:
        deploy(env)

    build()
    units = {r.name: r.type for r in requests if r.type.startswith(f"gatekit:{stack}:")}
    inside = [r for r in requests if any(r.parent.endswith(f"{typ}::{name}") for name, typ in units.items())]
    root = {r.type for r in requests if "::pulumi:pulumi:Stack::" in r.parent}
    return UnitTree(env, units, inside, root)


def assert_moved_with_root_alias(tree: UnitTree, types: Iterable[str]) -> None:
    by_type = {r.type for r in tree.inside}
    for typ in types:
        assert typ in by_type, typ
    for request in tree.inside:  # moved under a unit: the old root address is an alias, so `up` does not replace
        assert any(alias.spec.noParent for alias in request.aliases), (request.name, request.aliases)


def test_azure_resources_live_in_their_units_and_keep_their_root_addresses() -> None:
    from gatekit.clouds import azure

    tree = unit_tree("azure", azure.deploy)
    assert set(tree.units.values()) >= {
        "gatekit:azure:Network",
        "gatekit:azure:Monitoring",
        "gatekit:azure:AksCluster",
        "gatekit:azure:Database",
        "gatekit:azure:Cache",
        "gatekit:azure:ConfigStorage",
        "gatekit:azure:KeyVault",
    }, tree.units
    assert all(name.startswith(f"{tree.env.deployment.prefix}-") for name in tree.units)
    assert_moved_with_root_alias(
        tree,
        (
            "azure-native:network:VirtualNetwork",
            "azure-native:containerservice:ManagedCluster",
            "azure-native:dbforpostgresql:Server",
            "azure-native:redis:Redis",
            "azure-native:storage:StorageAccount",
            "azure-native:keyvault:Vault",
            "azure-native:keyvault:Secret",
        ),
    )
    # Only the program-level pieces stay at the root: providers, the resource group, cross-unit grants, the gateway.
    assert tree.root <= {
        "pulumi:providers:azure-native",
        "pulumi:providers:kubernetes",
        "azure-native:resources:ResourceGroup",
        "azure-native:authorization:RoleAssignment",
        "gatekit:kubernetes:Gateway",
        *tree.units.values(),
    }, tree.root


def test_gcp_resources_live_in_their_units_and_keep_their_root_addresses() -> None:
    from gatekit.clouds import gcp

    tree = unit_tree("gcp", gcp.deploy)
    assert set(tree.units.values()) == {
        "gatekit:gcp:Network",
        "gatekit:gcp:GkeCluster",
        "gatekit:gcp:DataServices",
        "gatekit:gcp:Secrets",
    }, tree.units
    assert_moved_with_root_alias(
        tree,
        (
            "gcp:compute/network:Network",
            "gcp:container/cluster:Cluster",
            "gcp:container/nodePool:NodePool",
            "gcp:kms/cryptoKey:CryptoKey",
            "gcp:sql/databaseInstance:DatabaseInstance",
            "gcp:redis/instance:Instance",
            "gcp:storage/bucket:Bucket",
            "gcp:secretmanager/secret:Secret",
        ),
    )
    assert tree.root <= {
        "pulumi:providers:gcp",
        "pulumi:providers:kubernetes",
        "gcp:projects/service:Service",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:compute/securityPolicy:SecurityPolicy",
        "gatekit:kubernetes:Gateway",
        *tree.units.values(),
    }, tree.root
