"""The GKE proxy-only subnet is one typed setting (`gcp.proxy_only_cidr`): the gcp program creates it, the gateway's
NetworkPolicy admits it, and validation keeps it private, large enough and clear of the ranges gatekit renders."""

from __future__ import annotations

import pytest

from gatekit.clouds.plan import run_plan
from gatekit.config import ConfigError
from gatekit.config.gcp_ranges import DEFAULT_PROXY_ONLY_CIDR
from gatekit.render.k8s import render_gateway_manifests
from tests.pulumi.conftest import PROJECT, environment, one, resources


def test_the_proxy_only_subnet_comes_from_the_config_everywhere() -> None:
    assert environment("gcp").gcp.proxy_only_cidr == DEFAULT_PROXY_ONLY_CIDR  # type: ignore[union-attr]
    plan = run_plan("gcp", PROJECT, ("gcp.proxy_only_cidr=10.99.0.0/23",))
    subnets = [r.inputs for r in resources(plan, "gcp:compute/subnetwork:Subnetwork")]
    assert [s["ipCidrRange"] for s in subnets if s.get("purpose") == "REGIONAL_MANAGED_PROXY"] == ["10.99.0.0/23"]
    policy = one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    peers = {p["ipBlock"]["cidr"] for p in policy["spec"]["ingress"][0]["from"] if "ipBlock" in p}
    assert "10.99.0.0/23" in peers and DEFAULT_PROXY_ONLY_CIDR not in peers


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8.8.8.0/23", r"`8\.8\.8\.0/23` is not a private range"),
        ("10.99.0.0/27", r"smaller than a /26"),
        ("10.40.0.0/23", r"overlaps network\.cidr \(10\.40\.0\.0/16\)"),
        ("100.64.0.0/23", r"overlaps the GKE pod range"),
        ("100.68.0.0/23", r"overlaps the GKE Service range"),
        ("172.16.0.0/23", r"overlaps the GKE control plane range"),
        ("10.99.0.1/23", r"is not an IPv4 network address"),
    ],
)
def test_validation_refuses_a_proxy_only_subnet_that_cannot_work(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"gcp\.proxy_only_cidr: .*{message}"):
        environment("gcp", f"gcp.proxy_only_cidr={value}")


def test_gke_internal_load_balancer_elsewhere_names_its_proxy_only_subnet() -> None:
    internal = (
        "gateway.exposure.ingress.class_name=gce-internal",
        "gateway.exposure.ingress.controller_namespace=null",
    )
    with pytest.raises(ConfigError, match=r"gcp: class `gce-internal`: set `gcp`"):
        environment("k8s", *internal)
    gcp = "gcp={project: my-project-1, region: europe-west1, proxy_only_cidr: 10.98.0.0/23}"
    env = environment("k8s", *internal, gcp)
    (policy,) = [m for m in render_gateway_manifests(env) if m["kind"] == "NetworkPolicy"]
    assert {"ipBlock": {"cidr": "10.98.0.0/23"}} in policy["spec"]["ingress"][0]["from"]
