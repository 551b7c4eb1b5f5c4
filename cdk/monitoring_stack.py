"""Monitoring: the gateway dashboard and its alarms (5xx rate, p99 latency, shed requests, config-reload failures,
database and cache health), notifying the observability stack's SNS topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from cdk.collector import DEPLOYMENT_DIMENSION, METRICS_NAMESPACE, RELOAD_FAILURE_METRIC, SHED_METRIC
from cdk.props import MonitoringProps
from cdk.shared import StackOptions, as_interface

ERROR_RATE_PERCENT = 5
P99_LATENCY_SECONDS = 30
SHED_PER_MINUTE = 10
DB_ACU_PERCENT = 90
DB_CPU_PERCENT = 85
CACHE_CPU_PERCENT = 80
CACHE_MEMORY_PERCENT = 85
ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


@dataclass(frozen=True)
class AlarmSpec:
    construct_id: str
    description: str
    metric: cw.IMetric
    threshold: float
    periods: int = 3
    comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
    missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: MonitoringProps,
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.props = props
        alb = props.alb
        specs = [*self._gateway_alarms(alb, props.target_group), *self._runtime_alarms(), *self._data_alarms()]
        self.alarms: list[cw.Alarm] = []
        action = as_interface(actions.SnsAction(props.topic), cw.IAlarmAction)
        for spec in specs:
            alarm = cw.Alarm(
                self,
                spec.construct_id,
                alarm_description=f"{props.prefix}: {spec.description}",
                metric=spec.metric,
                threshold=spec.threshold,
                evaluation_periods=spec.periods,
                datapoints_to_alarm=spec.periods,
                comparison_operator=spec.comparison,
                treat_missing_data=spec.missing,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms.append(alarm)
        self.dashboard = self._dashboard(alb)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)

    def _gateway_alarms(
        self, alb: elbv2.IApplicationLoadBalancer, target_group: elbv2.IApplicationTargetGroup
    ) -> list[AlarmSpec]:
        requests = alb.metrics.request_count(period=ONE_MINUTE)
        target_5xx = alb.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=ONE_MINUTE)
        elb_5xx = alb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=ONE_MINUTE)
        error_rate = cw.MathExpression(
            expression="IF(requests > 0, 100 * (target5xx + elb5xx) / requests, 0)",
            using_metrics={"requests": requests, "target5xx": target_5xx, "elb5xx": elb_5xx},
            label="5xx rate (%)",
            period=ONE_MINUTE,
        )
        return [
            AlarmSpec(
                "Error5xxRate", f"5xx rate above {ERROR_RATE_PERCENT}% for 3 minutes", error_rate, ERROR_RATE_PERCENT
            ),
            AlarmSpec(
                "LatencyP99",
                f"p99 time to first byte above {P99_LATENCY_SECONDS} s for 3 minutes",
                alb.metrics.target_response_time(statistic="p99", period=ONE_MINUTE),
                P99_LATENCY_SECONDS,
            ),
            AlarmSpec(
                "NoHealthyTargets",
                "no healthy gateway task behind the load balancer",
                target_group.metrics.healthy_host_count(statistic="Minimum", period=ONE_MINUTE),
                1,
                periods=2,
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cw.TreatMissingData.BREACHING,
            ),
        ]

    def _runtime_metric(self, name: str, period: Duration) -> cw.Metric:
        return cw.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={DEPLOYMENT_DIMENSION: self.props.prefix},
            statistic="Sum",
            period=period,
        )

    def _runtime_alarms(self) -> list[AlarmSpec]:
        return [
            AlarmSpec(
                "RequestsShed",
                f"more than {SHED_PER_MINUTE} requests per minute shed by backpressure for 3 minutes",
                self._runtime_metric(SHED_METRIC, ONE_MINUTE),
                SHED_PER_MINUTE,
            ),
            AlarmSpec(
                "ConfigReloadFailures",
                "the gateway failed to reload its config from S3",
                self._runtime_metric(RELOAD_FAILURE_METRIC, FIVE_MINUTES),
                0,
                periods=1,
            ),
        ]

    def _data_alarms(self) -> list[AlarmSpec]:
        specs: list[AlarmSpec] = []
        if self.props.database is not None:
            cluster = self.props.database
            specs += [
                AlarmSpec(
                    "DatabaseCapacity",
                    f"Aurora Serverless capacity above {DB_ACU_PERCENT}% of max ACU for 15 minutes",
                    cluster.metric("ACUUtilization", statistic="Average", period=FIVE_MINUTES),
                    DB_ACU_PERCENT,
                ),
                AlarmSpec(
                    "DatabaseCpu",
                    f"Aurora CPU above {DB_CPU_PERCENT}% for 15 minutes",
                    cluster.metric_cpu_utilization(period=FIVE_MINUTES),
                    DB_CPU_PERCENT,
                ),
            ]
        if self.props.cache_node_id is not None:
            node = self.props.cache_node_id
            specs += [
                AlarmSpec(
                    "CacheCpu",
                    f"cache engine CPU above {CACHE_CPU_PERCENT}% for 15 minutes",
                    _cache_metric("EngineCPUUtilization", node),
                    CACHE_CPU_PERCENT,
                ),
                AlarmSpec(
                    "CacheMemory",
                    f"cache memory above {CACHE_MEMORY_PERCENT}% for 15 minutes",
                    _cache_metric("DatabaseMemoryUsagePercentage", node),
                    CACHE_MEMORY_PERCENT,
                ),
            ]
        return specs

    def _dashboard(self, alb: elbv2.IApplicationLoadBalancer) -> cw.Dashboard:
        props = self.props
        dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Requests and 5xx",
                left=[alb.metrics.request_count(period=ONE_MINUTE)],
                right=[
                    alb.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=ONE_MINUTE),
                    alb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=ONE_MINUTE),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Time to first byte",
                left=[
                    alb.metrics.target_response_time(statistic=stat, period=ONE_MINUTE)
                    for stat in ("p50", "p90", "p99")
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Gateway tasks",
                left=[props.service.metric_cpu_utilization(), props.service.metric_memory_utilization()],
                right=[props.target_group.metrics.healthy_host_count()],
                width=12,
            ),
            cw.GraphWidget(
                title="Backpressure and config reloads",
                left=[self._runtime_metric(SHED_METRIC, ONE_MINUTE)],
                right=[self._runtime_metric(RELOAD_FAILURE_METRIC, FIVE_MINUTES)],
                width=12,
            ),
        )
        data_widgets: list[cw.IWidget] = []
        if props.database is not None:
            cluster = props.database
            data_widgets.append(
                cw.GraphWidget(
                    title="Aurora",
                    left=[cluster.metric("ServerlessDatabaseCapacity"), cluster.metric("ACUUtilization")],
                    right=[cluster.metric_database_connections()],
                    width=12,
                )
            )
        if props.cache_node_id is not None:
            node = props.cache_node_id
            data_widgets.append(
                cw.GraphWidget(
                    title="Cache",
                    left=[
                        _cache_metric("EngineCPUUtilization", node),
                        _cache_metric("DatabaseMemoryUsagePercentage", node),
                    ],
                    right=[_cache_metric("CurrConnections", node)],
                    width=12,
                )
            )
        if data_widgets:
            dashboard.add_widgets(*data_widgets)
        dashboard.add_widgets(cw.AlarmStatusWidget(alarms=self.alarms, title="Alarms", width=24))
        return dashboard


def _cache_metric(name: str, node_id: str) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/ElastiCache",
        metric_name=name,
        dimensions_map={"CacheClusterId": node_id},
        statistic="Average",
        period=FIVE_MINUTES,
    )
