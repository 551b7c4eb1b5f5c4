"""The k8s stack under mocks: only the gateway on an existing cluster, with bring-your-own Postgres and Redis."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest
import yaml

from gatekit.clouds import k8s
from gatekit.clouds.plan import Plan
from tests.pulumi.conftest import environment, manifest, use_mocks

Plans = Callable[[str], Plan]


@pytest.fixture(scope="module")
def plan(plan_for: Plans) -> Plan:
    return plan_for("k8s")


def test_outputs_name_the_namespace_and_service() -> None:
    mocks = use_mocks("k8s")
    env = environment("k8s")

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        out = k8s.deploy(env)

        def verify(args: list[str]) -> None:
            assert args == [env.kubernetes.namespace, f"{env.deployment.prefix}-gateway"]

        return pulumi.Output.all(out["namespace"], out["service"]).apply(verify)

    check()
    assert [r for r in mocks.resources if r.type == "kubernetes:apps/v1:Deployment"]


def test_only_kubernetes_resources_are_created(plan: Plan) -> None:
    types = {r.type for r in plan.resources}
    assert all(t.startswith(("kubernetes:", "pulumi:providers:kubernetes", "gatekit:")) for t in types), types
    assert {
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Service",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:core/v1:ConfigMap",
    } <= types


def test_byo_database_and_redis_are_secret_references(plan: Plan) -> None:
    pod = manifest(plan, "kubernetes:apps/v1:Deployment")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["DATABASE_URL"]["valueFrom"] == {"secretKeyRef": {"name": "gatekit-database", "key": "url"}}
    assert env["REDIS_URL"]["valueFrom"] == {"secretKeyRef": {"name": "gatekit-redis", "key": "url"}}
    assert "value" not in env["DATABASE_URL"]


def test_config_is_the_mounted_configmap_and_traces_go_to_the_clusters_backend(plan: Plan) -> None:
    config = manifest(plan, "kubernetes:core/v1:ConfigMap", "-gateway-config")
    assert config["data"]["GATEKIT_CONFIG_SOURCE"] == "file"
    assert config["data"]["GATEKIT_CONFIG_URI"] == "/etc/gatekit/config/environment.json"
    collector = yaml.safe_load(
        manifest(plan, "kubernetes:core/v1:ConfigMap", "otel-collector")["data"]["collector.yaml"]
    )
    assert collector["exporters"] == {
        "otlphttp": {"endpoint": plan.environment.observability.collector_export_endpoint}
    }
    assert manifest(plan, "kubernetes:core/v1:Service")["spec"]["type"] == "ClusterIP"


def test_k8s_plan_is_policy_clean(plan: Plan) -> None:
    assert plan.violations == []
