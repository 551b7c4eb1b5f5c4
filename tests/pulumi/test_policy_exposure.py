"""What a deployment exposes (security, issue 12): the exposure policies on single resources, on the shipped plans
(which pass) and on a plan that puts a plaintext listener on a public address (which fails); the private control
planes and firewalled stores the gcp and azure programs create, and the config rules behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatekit.clouds.policy import POLICIES, Context
from gatekit.clouds.private_access import aks_api_access, gke_authorized_networks, gke_private_cluster
from gatekit.config import ConfigError
from tests.pulumi.conftest import environment, manifest, one, resources
from tests.security.listener_audit import audit_resources

MARKED = Context(secrets_marked=True)
POLICY = {p.name: p for p in POLICIES}
PINNED = "registry.example/gateway@sha256:" + "a" * 64
GOOD_URL = "postgresql://u:p@db.internal:5432/litellm?sslmode=verify-full&sslrootcert=/etc/gatekit/config/ca.pem"
VERIFIED_ENV = [{"Name": "DATABASE_SSLMODE", "Value": "verify-full"}, {"Name": "GATEKIT_DATABASE_CA", "Value": "P"}]
REQUIRE_ENV = [{"Name": "DATABASE_SSLMODE", "Value": "require"}, {"Name": "DATABASE_HOST", "Value": {"Ref": "X"}}]


def pulumi_ecs(mode: str) -> str:
    return json.dumps([{"name": "migrations", "environment": [{"name": "DATABASE_SSLMODE", "value": mode}]}])


def pod(env: list[dict[str, str]]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "gateway", "env": env}]}}}}


PUBLIC_LB = {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}], "loadBalancerSourceRanges": ["0.0.0.0/0"]}}

# policy -> (type, compliant props, violating props, words the violation names); test_policy.py runs them
EXPOSURE_CASES: dict[str, list[tuple[str, dict[str, Any], dict[str, Any], str]]] = {
    "private-control-plane": [
        (
            "gcp:container/cluster:Cluster",
            {"privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True}},
            {"privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False}},
            "GKE control plane is public",
        ),
        (
            "gcp:container/cluster:Cluster",
            {
                "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
                "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}]},
            },
            {
                "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
                "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]},
            },
            "0.0.0.0/0",
        ),
        (
            "gcp:container/cluster:Cluster",
            {"privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True}},
            {"privateClusterConfig": {"enablePrivateNodes": False, "enablePrivateEndpoint": True}},
            "nodes must be private",
        ),
        (
            "azure-native:containerservice:ManagedCluster",
            {"apiServerAccessProfile": {"enablePrivateCluster": True}},
            {"apiServerAccessProfile": {"enablePrivateCluster": False, "authorizedIpRanges": []}},
            "AKS API server is public",
        ),
        (
            "azure-native:containerservice:ManagedCluster",
            {"apiServerAccessProfile": {"authorizedIpRanges": ["203.0.113.0/24"]}},
            {
                "apiServerAccessProfile": {"enablePrivateCluster": True},
                "agentPoolProfiles": [{"enableNodePublicIP": True}],
            },
            "public IPs",
        ),
    ],
    "firewalled-stores": [
        (
            "azure-native:keyvault:Vault",
            {"properties": {"publicNetworkAccess": "Disabled"}},
            {"properties": {"publicNetworkAccess": "Enabled"}},
            "Key Vault accepts public networks",
        ),
        (
            "azure-native:storage:StorageAccount",
            {"publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "Deny", "ipRules": []}},
            {"networkRuleSet": {"defaultAction": "Allow"}},
            "storage account accepts public networks",
        ),
    ],
    "no-public-plaintext": [
        (
            "kubernetes:core/v1:Service",
            {
                "metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            },
            PUBLIC_LB,
            "plaintext on port(s) 80",
        ),
        (
            "kubernetes:core/v1:Service",
            {
                "spec": {
                    "type": "LoadBalancer",
                    "ports": [{"port": 443}],
                    "loadBalancerSourceRanges": ["198.51.100.0/24"],
                }
            },
            {"spec": {"type": "LoadBalancer", "ports": [{"port": 443}], "loadBalancerSourceRanges": ["0.0.0.0/0"]}},
            "admits every address",
        ),
        (
            "kubernetes:networking.k8s.io/v1:Ingress",
            {"spec": {"tls": [{"hosts": ["gw.example.com"]}], "rules": [{"host": "gw.example.com"}]}},
            {"spec": {"rules": [{"host": "gw.example.com"}]}},
            "plaintext for host(s) gw.example.com",
        ),
    ],
    "tls-listeners": [
        (
            "kubernetes:core/v1:Service",
            {"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}},
            {
                "metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            },
            "plaintext on port(s) 80 (internal addresses too)",
        ),
        (
            "kubernetes:core/v1:Service",
            {"spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}},
            {"spec": {"type": "NodePort", "ports": [{"port": 8080}]}},
            "NodePort Service listens in plaintext",
        ),
        (
            "kubernetes:networking.k8s.io/v1:Ingress",
            {
                "metadata": {"annotations": {"kubernetes.io/ingress.allow-http": "false"}},
                "spec": {
                    "ingressClassName": "gce-internal",
                    "tls": [{"hosts": ["gw.example.com"]}],
                    "rules": [{"host": "gw.example.com"}],
                },
            },
            {
                "spec": {
                    "ingressClassName": "gce-internal",
                    "tls": [{"hosts": ["gw.example.com"]}],
                    "rules": [{"host": "gw.example.com"}],
                }
            },
            "opens an HTTP forwarding rule",
        ),
        (
            "kubernetes:networking.k8s.io/v1:Ingress",
            {
                "metadata": {
                    "annotations": {
                        "kubernetes.io/ingress.allow-http": "false",
                        "networking.gke.io/managed-certificates": "gw",
                    }
                },
                "spec": {"ingressClassName": "gce", "rules": [{"host": "gw.example.com"}]},
            },
            {"spec": {"ingressClassName": "nginx", "rules": [{"host": "gw.example.com"}]}},
            "plaintext for host(s) gw.example.com",
        ),
    ],
    "database-tls-verified": [
        (
            "gcp:secretmanager/secretVersion:SecretVersion",
            {"secretData": GOOD_URL},
            {"secretData": GOOD_URL.replace("verify-full", "require")},
            "does not verify the server",
        ),
        (
            "azure-native:keyvault:Secret",
            {"properties": {"value": GOOD_URL}},
            {"properties": {"value": "postgresql://u:p@h/db?sslmode=require"}},
            "verify-full",
        ),
        (  # the ECS targets (aws-ecs, moat): the task definition's DATABASE_* variables
            "AWS::ECS::TaskDefinition",
            {"ContainerDefinitions": [{"Name": "gateway", "Environment": VERIFIED_ENV}]},
            {"ContainerDefinitions": [{"Name": "gateway", "Environment": REQUIRE_ENV}]},
            "container `gateway`: DATABASE_SSLMODE `require` does not verify the server",
        ),
        (  # the same through Pulumi's aws.ecs.TaskDefinition (container definitions as JSON)
            "aws:ecs/taskDefinition:TaskDefinition",
            {"containerDefinitions": pulumi_ecs("verify-full")},
            {"containerDefinitions": pulumi_ecs("prefer")},
            "container `migrations`: DATABASE_SSLMODE `prefer`",
        ),
        (  # aws-eks (the manifests inside the CDK template) and any workload
            "kubernetes:apps/v1:Deployment",
            pod([{"name": "DATABASE_SSLMODE", "value": "verify-full"}, {"name": "DATABASE_URL", "value": GOOD_URL}]),
            pod([{"name": "DATABASE_URL", "value": "postgresql://u:p@h/db?sslmode=require"}]),
            "container `gateway`: DATABASE_URL is a Postgres URL that does not verify the server",
        ),
    ],
    "images-pinned": [
        (
            "kubernetes:apps/v1:Deployment",
            {"spec": {"template": {"spec": {"containers": [{"name": "gateway", "image": PINNED}]}}}},
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "gateway", "image": PINNED}],
                            "initContainers": [{"name": "otel-collector", "image": "otel/collector:0.139.0"}],
                        }
                    }
                }
            },
            "`otel-collector` pulls `otel/collector:0.139.0` by tag",
        ),
    ],
}


def test_no_shipped_plan_has_a_plaintext_listener_and_a_forced_one_fails(plan_for: Any) -> None:
    """Every gcp/azure/k8s plan serves through a TLS Ingress only; the LoadBalancer Service the programs created
    before (port 80, internal) now fails the pack, and a public one fails both listener policies."""
    for stack in ("gcp", "azure", "k8s"):
        plan = plan_for(stack)
        assert not [v for v in plan.violations if v.policy in ("tls-listeners", "no-public-plaintext")]
        assert audit_resources((r.name, r.type, r.inputs) for r in plan.resources) == []
        (service,) = [r.inputs for r in resources(plan, "kubernetes:core/v1:Service")]
        assert service["spec"]["type"] == "ClusterIP", stack
        (ingress,) = [r.inputs for r in resources(plan, "kubernetes:networking.k8s.io/v1:Ingress")]
        assert ingress["spec"]["tls"] == [{"hosts": ["gateway.example.com"], "secretName": "gatekit-tls"}], stack
    internal = {
        "metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
    }
    assert POLICY["tls-listeners"].validate("kubernetes:core/v1:Service", internal, MARKED)
    assert POLICY["no-public-plaintext"].validate("kubernetes:core/v1:Service", PUBLIC_LB, MARKED)
    assert POLICY["tls-listeners"].validate("kubernetes:core/v1:Service", PUBLIC_LB, MARKED)


def test_gke_control_plane_is_private_by_default(plan_for: Any) -> None:
    gke = one(plan_for("gcp"), "gcp:container/cluster:Cluster")
    assert gke["privateClusterConfig"]["enablePrivateNodes"] is True
    assert gke["privateClusterConfig"]["enablePrivateEndpoint"] is True
    networks = gke["masterAuthorizedNetworksConfig"]
    assert [b["cidrBlock"] for b in networks["cidrBlocks"]] == ["10.40.0.0/16"]  # the VPC only
    assert networks["gcpPublicCidrsAccessEnabled"] is False


def test_deployer_networks_open_a_restricted_public_endpoint() -> None:
    env = environment("gcp", "network.deployer_cidrs=[203.0.113.0/24]")
    assert gke_private_cluster(env, "172.16.0.32/28")["enable_private_endpoint"] is False
    assert [b["cidr_block"] for b in gke_authorized_networks(env)["cidr_blocks"]] == ["10.40.0.0/16", "203.0.113.0/24"]
    az = environment("azure", "network.deployer_cidrs=[203.0.113.0/24]")
    assert aks_api_access(az) == {"enable_private_cluster": False, "authorized_ip_ranges": ["203.0.113.0/24"]}
    assert aks_api_access(environment("azure"))["enable_private_cluster"] is True


def test_deployer_networks_never_the_whole_internet() -> None:
    with pytest.raises(ConfigError, match=r"network\.deployer_cidrs\.0.*whole internet"):
        environment("gcp", "network.deployer_cidrs=[0.0.0.0/0]")


def test_aks_is_private_and_the_stores_sit_behind_private_endpoints(plan_for: Any) -> None:
    plan = plan_for("azure")
    aks = one(plan, "azure-native:containerservice:ManagedCluster")
    assert aks["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert all(p["enableNodePublicIP"] is False for p in aks["agentPoolProfiles"])
    vault = one(plan, "azure-native:keyvault:Vault")["properties"]
    assert vault["publicNetworkAccess"] == "Disabled" and vault["networkAcls"]["defaultAction"] == "Deny"
    account = one(plan, "azure-native:storage:StorageAccount")
    assert account["publicNetworkAccess"] == "Disabled" and account["networkRuleSet"]["defaultAction"] == "Deny"
    groups = {
        tuple(r.inputs["privateLinkServiceConnections"][0]["groupIds"])
        for r in resources(plan, "azure-native:network:PrivateEndpoint")
    }
    assert {("vault",), ("blob",), ("redisCache",)} <= groups
    zones = {r.inputs["privateZoneName"] for r in resources(plan, "azure-native:privatedns:PrivateZone")}
    assert {"privatelink.vaultcore.azure.net", "privatelink.blob.core.windows.net"} <= zones


def test_collector_sidecar_is_pinned_and_a_tag_is_refused(plan_for: Any) -> None:
    deployment = manifest(plan_for("gcp"), "kubernetes:apps/v1:Deployment")
    (sidecar,) = [c for c in deployment["spec"]["template"]["spec"]["initContainers"] if c["name"] == "otel-collector"]
    assert "@sha256:" in sidecar["image"]
    for name in ("gcp", "azure", "k8s"):
        with pytest.raises(ConfigError, match=r"observability\.collector_image.*pulled by tag"):
            environment(name, "observability.collector_image=otel/opentelemetry-collector-contrib:0.139.0")
    assert environment("local", "observability.collector_image=otel/x:1")  # local: a tag is fine


def test_ingress_front_door_is_tls_clusterip_and_admits_its_controller() -> None:
    from gatekit.config.placeholders import placeholder_findings
    from gatekit.render.k8s import render_gateway_manifests

    door = "gateway.exposure.ingress={host: llm.corp-gateway.net, cluster_issuer: corp-ca}"
    manifests = {m["kind"]: m for m in render_gateway_manifests(environment("k8s", door))}
    assert manifests["Service"]["spec"]["type"] == "ClusterIP"
    assert (
        POLICY["no-public-plaintext"].validate("kubernetes:networking.k8s.io/v1:Ingress", manifests["Ingress"], MARKED)
        == []
    )
    peers = manifests["NetworkPolicy"]["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}} in peers
    cloud = render_gateway_manifests(environment("k8s", door[:-1] + ", controller_namespace: null}"))
    (policy,) = [m for m in cloud if m["kind"] == "NetworkPolicy"]
    assert not any("namespaceSelector" in p for p in policy["spec"]["ingress"][0]["from"])
    example = environment("k8s", "gateway.exposure.ingress={host: gateway.example.com}")
    assert "gateway.exposure.ingress.host" in {path for path, _ in placeholder_findings(example)}


def test_eks_collector_sidecar_follows_the_same_digest_contract() -> None:
    """aws-eks renders the same collector sidecar as the Pulumi targets: a tag is refused there too."""
    with pytest.raises(ConfigError, match=r"observability\.collector_image.*pulled by tag; on `aws-eks`"):
        environment("staging", "target=aws-eks")
    pinned = "registry.corp.net/mirror/otel-collector-contrib@sha256:" + "c0" * 32
    env = environment("staging", "target=aws-eks", f"observability.collector_image={pinned}")
    assert env.observability.collector_image == pinned
    assert environment("staging").target == "aws-ecs"  # ECS runs aws.collector_image, not this sidecar
