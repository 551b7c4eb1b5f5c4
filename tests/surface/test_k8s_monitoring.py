"""The k8s alert rules are the CloudWatch alarms (cdk/monitoring_stack.py) on Prometheus metrics, kept in step; the
Grafana dashboard and the rules only use metric families the real gateway exposes."""

from __future__ import annotations

import ast
import json
import re

import httpx

from gatekit.config import load_environment
from gatekit.render import k8s_monitoring
from gatekit.render.k8s import render_gateway_manifests
from tests.conftest import REPO, GatewayHandle

MONITORING_STACK = REPO / "cdk" / "monitoring_stack.py"
DASHBOARD = REPO / "docs" / "grafana" / "gatekit-gateway.json"
# CloudWatch alarms on AWS-managed services, with no Prometheus metric in a bring-your-own k8s cluster.
AWS_ONLY = {
    "DatabaseCapacity": "Aurora ACU utilisation (k8s brings its own database)",
    "DatabaseCpu": "Aurora CPU (k8s brings its own database)",
    "CacheCpu": "ElastiCache engine CPU (k8s brings its own Redis; GatekitDependencyDown covers reachability)",
    "CacheMemory": "ElastiCache memory (k8s brings its own Redis)",
}


def cloudwatch_alarms() -> tuple[set[str], dict[str, float]]:
    """Construct ids of every AlarmSpec(...) in the CDK monitoring stack, and its module-level thresholds."""
    tree = ast.parse(MONITORING_STACK.read_text())
    ids = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "AlarmSpec"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, int | float)
    }
    return ids, constants


def rendered_rules(**overrides: str) -> list[dict]:
    env = load_environment("k8s", overrides=["gateway.monitoring.prometheus_operator=true"])
    manifests = render_gateway_manifests(env)
    rule = next(m for m in manifests if m["kind"] == "PrometheusRule")
    return rule["spec"]["groups"][0]["rules"]


def test_every_cloudwatch_alarm_has_a_k8s_rule_and_back() -> None:
    alarms, _ = cloudwatch_alarms()
    assert len(alarms) >= 9, alarms  # the parser still finds the alarms
    rules = k8s_monitoring.alert_rules(load_environment("k8s"))
    mapped = {r.cloudwatch_alarm for r in rules if r.cloudwatch_alarm}
    assert mapped <= alarms, f"rules point at alarms that no longer exist: {mapped - alarms}"
    missing = alarms - mapped - set(AWS_ONLY)
    assert not missing, f"CloudWatch alarms without a k8s rule (add one to gatekit/render/k8s_monitoring.py): {missing}"
    assert not (mapped & set(AWS_ONLY))


def test_thresholds_match_the_cloudwatch_alarms() -> None:
    _, constants = cloudwatch_alarms()
    for name in ("ERROR_RATE_PERCENT", "P99_LATENCY_SECONDS", "SHED_PER_MINUTE"):
        assert getattr(k8s_monitoring, name) == constants[name], name
    by_alert = {r["alert"]: r for r in rendered_rules()}
    assert by_alert["GatekitHigh5xxRate"]["expr"].endswith(f"> {constants['ERROR_RATE_PERCENT']}")
    assert by_alert["GatekitLatencyP99"]["expr"].endswith(f"> {constants['P99_LATENCY_SECONDS']}")


def test_monitoring_manifests_only_when_asked() -> None:
    kinds = [m["kind"] for m in render_gateway_manifests(load_environment("k8s"))]
    assert "PrometheusRule" not in kinds and "PodMonitor" not in kinds
    env = load_environment("k8s", overrides=["gateway.monitoring.prometheus_operator=true"])
    manifests = {m["kind"]: m for m in render_gateway_manifests(env)}
    monitor = manifests["PodMonitor"]
    assert monitor["spec"]["podMetricsEndpoints"][0] == {"port": "http", "path": "/metrics", "interval": "30s"}
    pod_labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def _families(exprs: list[str]) -> set[str]:
    names = set()
    for expr in exprs:
        for name in re.findall(r"\b((?:litellm|gatekit)_[a-z0-9_]+)\{", expr):
            names.add(re.sub(r"_(bucket|sum|count)$", "", name))
    return names


def test_rules_and_dashboard_use_metrics_the_gateway_exposes(local_gateway: GatewayHandle) -> None:
    scrape = httpx.get(local_gateway.url + "/metrics", timeout=30).text
    exposed = set(re.findall(r"^# TYPE (\S+)", scrape, flags=re.M))
    exposed |= {n.removesuffix("_total") for n in exposed} | {n + "_total" for n in exposed}
    dashboard = json.loads(DASHBOARD.read_text())
    panel_exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(panel_exprs) >= 8
    used = _families([r["expr"] for r in rendered_rules()] + panel_exprs)
    assert used and not used - exposed, f"not exposed by the gateway: {sorted(used - exposed)}"
