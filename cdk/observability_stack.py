"""Observability the workload writes to: encrypted log groups with retention, the X-Ray sampling rule and group of
the gateway service, and the (encrypted) SNS topic alarms notify. Dashboard and alarms, which watch resources of the
gateway stack, are in the monitoring stack."""

from __future__ import annotations

from typing import Unpack

from aws_cdk import CfnOutput, Names, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_xray as xray
from constructs import Construct

from cdk.props import GatewayLogGroups, ObservabilityProps
from cdk.shared import StackOptions, as_interface, encryption_key, log_group, service_principal
from gatekit.config import Environment


def service_name(env: Environment) -> str:
    """The trace service name (OTEL_SERVICE_NAME, rendered by gatekit.render.env)."""
    return f"{env.deployment.prefix}-gateway"


class ObservabilityStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: ObservabilityProps, **kwargs: Unpack[StackOptions]
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        basics = props.basics
        self.key = encryption_key(self, "LogsKey", basics, "gateway logs and alarm topic", for_logs=True)
        self.gateway_logs = log_group(self, "GatewayLogs", basics, self.key)
        self.collector_logs = log_group(self, "CollectorLogs", basics, self.key)
        self.migrations_logs = log_group(self, "MigrationsLogs", basics, self.key)
        self._xray(props)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[service_principal("cloudwatch.amazonaws.com")],
                resources=["*"],
            )
        )
        self.alarm_topic = sns.Topic(self, "AlarmTopic", master_key=self.key, enforce_ssl=True)
        if props.alarm_email:
            email = subs.EmailSubscription(props.alarm_email)
            self.alarm_topic.add_subscription(as_interface(email, sns.ITopicSubscription))
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        CfnOutput(self, "GatewayLogGroup", value=self.gateway_logs.log_group_name)

    @property
    def log_groups(self) -> GatewayLogGroups:
        """What the gateway stack writes to (its log groups and their key)."""
        return GatewayLogGroups(
            gateway=as_interface(self.gateway_logs, logs.ILogGroup),
            collector=as_interface(self.collector_logs, logs.ILogGroup),
            migrations=as_interface(self.migrations_logs, logs.ILogGroup),
            key=self.key,
        )

    def _xray(self, props: ObservabilityProps) -> None:
        service = props.service_name
        xray.CfnSamplingRule(
            self,
            "SamplingRule",
            sampling_rule=xray.CfnSamplingRule.SamplingRuleProperty(
                rule_name=Names.unique_resource_name(self, max_length=32, separator="-"),
                priority=100,
                fixed_rate=props.traces_sample_ratio,
                reservoir_size=1,
                service_name=service,
                service_type="*",
                host="*",
                http_method="*",
                url_path="*",
                resource_arn="*",
                version=1,
            ),
        )
        group = xray.CfnGroup(
            self,
            "TraceGroup",
            group_name=Names.unique_resource_name(self, max_length=32, separator="-") + "-g",
            filter_expression=f'service("{service}")',
            insights_configuration=xray.CfnGroup.InsightsConfigurationProperty(
                insights_enabled=True, notifications_enabled=False
            ),
        )
        CfnOutput(self, "TraceGroupArn", value=group.attr_group_arn)
