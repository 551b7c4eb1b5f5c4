"""The ECS service scales on requests in flight per task (the collector's CloudWatch metric), with the CPU policy
kept beside it as a floor; the target comes from `gateway.backpressure.max_in_flight` (issue 15)."""

from __future__ import annotations

from typing import Any

from cdk.collector import DEPLOYMENT_DIMENSION, IN_FLIGHT_METRIC, METRICS_NAMESPACE, collector_config
from gatekit.config.sizing import in_flight_target
from tests.cdk.conftest import Synthesized


def _policies(synth: Synthesized) -> list[dict[str, Any]]:
    found = synth.resources("gateway", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    return [p["Properties"]["TargetTrackingScalingPolicyConfiguration"] for p in found]


def test_the_service_tracks_in_flight_per_task_and_keeps_cpu(each_env: Synthesized) -> None:
    env = each_env.env
    policies = _policies(each_env)
    custom = [p for p in policies if "CustomizedMetricSpecification" in p]
    assert len(custom) == 1, policies
    (policy,) = custom
    metric = policy["CustomizedMetricSpecification"]
    assert metric["MetricName"] == IN_FLIGHT_METRIC
    assert metric["Namespace"] == METRICS_NAMESPACE
    assert metric["Statistic"] == "Average"
    assert metric["Dimensions"] == [{"Name": DEPLOYMENT_DIMENSION, "Value": env.deployment.prefix}]
    expected = env.gateway.backpressure.max_in_flight * env.compute.autoscaling.in_flight_target_percent // 100
    assert policy["TargetValue"] == in_flight_target(env) == expected
    assert 0 < policy["TargetValue"] < env.gateway.backpressure.max_in_flight  # scale out before shedding
    cpu = [
        p
        for p in policies
        if p.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType") == ("ECSServiceAverageCPUUtilization")
    ]
    assert [p["TargetValue"] for p in cpu] == [env.compute.autoscaling.cpu_target_percent]


def test_the_collector_ships_the_in_flight_gauge_the_policy_tracks(each_env: Synthesized) -> None:
    config = collector_config(each_env.env, "emf-log-group")
    (declaration,) = config["exporters"]["awsemf"]["metric_declarations"]
    assert IN_FLIGHT_METRIC in declaration["metric_name_selectors"]
    assert declaration["dimensions"] == [[DEPLOYMENT_DIMENSION]]
    assert config["exporters"]["awsemf"]["namespace"] == METRICS_NAMESPACE
