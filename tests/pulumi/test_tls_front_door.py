"""TLS by default on GCP, Azure and any Kubernetes (security, issue 12): the gateway is reached only through an
Ingress with a certificate (GKE's load balancers, AKS application routing, the cluster's NGINX), its Service stays
ClusterIP, nothing opens a plaintext listener, and validation refuses an environment without a TLS front door."""

from __future__ import annotations

from typing import Any

import pytest

from gatekit.clouds.plan import run_plan
from gatekit.config import ConfigError
from gatekit.config.gcp_ranges import DEFAULT_PROXY_ONLY_CIDR as GKE_PROXY_ONLY_RANGE
from gatekit.render.k8s import render_gateway_manifests
from gatekit.render.k8s_ingress import GOOGLE_LB_RANGES
from tests.pulumi.conftest import PROJECT, environment, one, resources

PUBLIC_GKE = (
    "network.mode=public",
    "gateway.exposure.ingress.class_name=gce",
    "gateway.exposure.ingress.managed_certificate=true",
    "network.allowed_ingress_cidrs=[198.51.100.0/24]",
)


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [m for m in manifests if m["kind"] == kind]
    return found


def proxy_subnets(plan: Any) -> list[dict[str, Any]]:
    subnets = resources(plan, "gcp:compute/subnetwork:Subnetwork")
    return [r.inputs for r in subnets if r.inputs.get("purpose") == "REGIONAL_MANAGED_PROXY"]


@pytest.mark.parametrize("name", ["gcp", "azure", "k8s"])
def test_validation_refuses_a_kubernetes_target_without_a_tls_front_door(name: str) -> None:
    with pytest.raises(ConfigError, match=r"gateway\.exposure\.ingress: target `\w+` serves TLS only"):
        environment(name, "gateway.exposure.ingress=null")
    assert environment("local").gateway.exposure.ingress is None  # local may serve plaintext


def test_gke_front_door_rules() -> None:
    with pytest.raises(ConfigError, match=r"class `gce` is an internet-facing load balancer.*gce-internal"):
        environment("gcp", "gateway.exposure.ingress.class_name=gce")
    with pytest.raises(ConfigError, match=r"controller_namespace: class `gce-internal`.*controller_namespace: null"):
        environment("gcp", "gateway.exposure.ingress.controller_namespace=ingress-nginx")
    with pytest.raises(ConfigError, match=r"managed_certificate: a Google-managed certificate needs target gcp"):
        environment("k8s", "gateway.exposure.ingress.managed_certificate=true")
    with pytest.raises(ConfigError, match=r"managed_certificate"):
        environment("gcp", "gateway.exposure.ingress.managed_certificate=true")  # gce-internal takes tls_secret


def test_gke_internal_load_balancer_reaches_pods_by_neg_over_https_only(plan_for: Any) -> None:
    plan = plan_for("gcp")
    assert [(r["ipCidrRange"], r["role"]) for r in proxy_subnets(plan)] == [(GKE_PROXY_ONLY_RANGE, "ACTIVE")]
    ingress = one(plan, "kubernetes:networking.k8s.io/v1:Ingress")
    assert ingress["spec"]["ingressClassName"] == "gce-internal"
    assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"] == "false"
    policy = one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    peers = [p["ipBlock"]["cidr"] for p in policy["spec"]["ingress"][0]["from"] if "ipBlock" in p]
    assert {GKE_PROXY_ONLY_RANGE, *GOOGLE_LB_RANGES} <= set(peers)
    assert not [p for p in policy["spec"]["ingress"][0]["from"] if "namespaceSelector" in p]


def test_public_gke_uses_a_google_managed_certificate_on_the_external_load_balancer() -> None:
    plan = run_plan("gcp", PROJECT, PUBLIC_GKE)
    assert not [v for v in plan.violations if v.mandatory], plan.violations
    ingress = one(plan, "kubernetes:networking.k8s.io/v1:Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "gce" and "tls" not in ingress["spec"]
    assert annotations["kubernetes.io/ingress.allow-http"] == "false"
    cert = one(plan, "kubernetes:networking.gke.io/v1:ManagedCertificate")
    assert annotations["networking.gke.io/managed-certificates"] == cert["metadata"]["name"]
    assert cert["spec"]["domains"] == ["gateway.example.com"]
    assert proxy_subnets(plan) == []  # the external load balancer needs no proxy-only subnet
    policy = one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    peers = {p["ipBlock"]["cidr"] for p in policy["spec"]["ingress"][0]["from"] if "ipBlock" in p}
    assert set(GOOGLE_LB_RANGES) <= peers and GKE_PROXY_ONLY_RANGE not in peers


def test_aks_enables_application_routing_on_an_internal_load_balancer(plan_for: Any) -> None:
    plan = plan_for("azure")
    profile = one(plan, "azure-native:containerservice:ManagedCluster")["ingressProfile"]
    assert profile == {"webAppRouting": {"enabled": True, "nginx": {"defaultIngressControllerType": "Internal"}}}
    ingress = one(plan, "kubernetes:networking.k8s.io/v1:Ingress")
    assert ingress["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    policy = one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    selector = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "app-routing-system"}}}
    assert selector in policy["spec"]["ingress"][0]["from"]


def test_nginx_front_door_admits_only_the_configured_client_networks() -> None:
    env = environment("k8s", "network.allowed_ingress_cidrs=[10.20.0.0/16, 192.0.2.0/24]")
    ingress = by_kind(render_gateway_manifests(env), "Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"] == (
        "10.20.0.0/16,192.0.2.0/24"
    )
    default = by_kind(render_gateway_manifests(environment("k8s")), "Ingress")  # unset: the environment's network
    assert default["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"] == "10.40.0.0/16"
    everyone = environment("k8s", "network.allowed_ingress_cidrs=[0.0.0.0/0]")  # on purpose: no allow-list
    assert (
        "nginx.ingress.kubernetes.io/whitelist-source-range"
        not in by_kind(render_gateway_manifests(everyone), "Ingress")["metadata"]["annotations"]
    )
    with pytest.raises(ConfigError, match=r"allowed_ingress_cidrs: target `k8s` has an internet-facing listener"):
        environment("k8s", "network.mode=public")
