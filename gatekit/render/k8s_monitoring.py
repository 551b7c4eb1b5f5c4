"""Kubernetes monitoring for the gateway: a PodMonitor that scrapes `/metrics` (gatekit's and LiteLLM's metrics on
one endpoint) and a PrometheusRule whose alerts are the CloudWatch alarms of cdk/monitoring_stack.py, expressed on
those metrics. Rendered when `gateway.monitoring.prometheus_operator` is on (they need the Prometheus Operator's
CRDs). A test keeps the rules and the CloudWatch alarms in step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatekit.config import Environment

# The CloudWatch alarms' thresholds (cdk/monitoring_stack.py), mirrored here; the parity test compares them.
ERROR_RATE_PERCENT = 5
P99_LATENCY_SECONDS = 30
SHED_PER_MINUTE = 10


@dataclass(frozen=True)
class AlertRule:
    alert: str
    cloudwatch_alarm: str | None  # construct id of the equivalent alarm; None: Kubernetes only
    expr: str
    for_: str
    summary: str
    threshold: float | None = None


def alert_rules(env: Environment) -> list[AlertRule]:
    ns = env.kubernetes.namespace
    pods = f'namespace="{ns}",pod=~"{env.deployment.prefix}-gateway-.*"'
    return [
        AlertRule(
            "GatekitHigh5xxRate",
            "Error5xxRate",
            f'100 * sum(rate(litellm_proxy_failed_requests_metric_total{{{pods},exception_status=~"5.."}}[1m])) '
            f"/ clamp_min(sum(rate(litellm_proxy_total_requests_metric_total{{{pods}}}[1m])), 1e-9) "
            f"> {ERROR_RATE_PERCENT}",
            "3m",
            f"5xx rate above {ERROR_RATE_PERCENT}% for 3 minutes",
            ERROR_RATE_PERCENT,
        ),
        AlertRule(
            "GatekitLatencyP99",
            "LatencyP99",
            "histogram_quantile(0.99, sum by (le) "
            f"(rate(litellm_request_total_latency_metric_bucket{{{pods}}}[1m]))) > {P99_LATENCY_SECONDS}",
            "3m",
            f"p99 request latency above {P99_LATENCY_SECONDS} s for 3 minutes",
            P99_LATENCY_SECONDS,
        ),
        AlertRule(
            "GatekitNoReadyReplica",
            "NoHealthyTargets",
            f"(sum(up{{{pods}}}) < 1) or absent(up{{{pods}}})",
            "2m",
            "no gateway replica is scraped (none running or none answering)",
        ),
        AlertRule(
            "GatekitRequestsShed",
            "RequestsShed",
            f"sum(increase(gatekit_shed_requests_total{{{pods}}}[1m])) > {SHED_PER_MINUTE}",
            "3m",
            f"more than {SHED_PER_MINUTE} requests per minute shed by backpressure for 3 minutes",
            SHED_PER_MINUTE,
        ),
        AlertRule(
            "GatekitConfigReloadFailures",
            "ConfigReloadFailures",
            f"sum(increase(gatekit_config_reload_failures_total{{{pods}}}[5m])) > 0",
            "0m",
            "the gateway failed to reload its config",
            0,
        ),
        AlertRule(
            "GatekitDependencyDown",
            None,
            f"min by (dependency) (gatekit_dependency_up{{{pods}}}) < 1",
            "1m",
            "a dependency (Redis) is away: the gateway serves degraded (per-replica limits, no shared cache)",
        ),
    ]


def monitoring_manifests(
    env: Environment, meta: dict[str, Any], name: str, selector: dict[str, str]
) -> list[dict[str, Any]]:
    if not env.gateway.monitoring.prometheus_operator:
        return []
    labels = {**meta["labels"], **env.gateway.monitoring.rule_labels}
    rules = [
        {
            "alert": rule.alert,
            "expr": rule.expr,
            "for": rule.for_,
            "labels": {"severity": "page" if rule.cloudwatch_alarm else "warning"},
            "annotations": {"summary": f"{env.deployment.prefix}: {rule.summary}"},
        }
        for rule in alert_rules(env)
    ]
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"namespace": meta["namespace"], "labels": labels, "name": name},
            "spec": {
                "selector": {"matchLabels": dict(selector)},
                "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"namespace": meta["namespace"], "labels": labels, "name": name},
            "spec": {"groups": [{"name": f"{name}.rules", "rules": rules}]},
        },
    ]
