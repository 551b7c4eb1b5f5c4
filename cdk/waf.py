"""The gateway's AWS WAF web ACL, the same in every AWS environment that enables `network.waf` (staging runs what prod
runs, so promotion catches a rule that blocks real traffic).

Prompts are not attacks: a coding question routinely contains `<script>`, `../../etc/passwd` or
`http://169.254.169.254`. The managed rules that inspect the body (XSS, LFI, RFI, SSRF, Log4j, Java
deserialization, 8 KB size) therefore *count* and label; a rule of ours then blocks those labels everywhere except on
the inference API. Rules on the URI, query, headers and cookies keep blocking. A rate-based rule limits each client
address, and every decision is logged (credentials redacted) to a CloudWatch log group.

`web_acl_rules(env)` renders the rules as CloudFormation JSON; the construct and the tests use the same value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk.props import Basics
from cdk.shared import encryption_key, retention
from gatekit.config import Environment

INFERENCE_PREFIX = "/v1/"
# (vendor rule group, rules inside it that inspect the request body, the label namespace of the group)
BODY_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "AWSManagedRulesCommonRuleSet": (
        (
            "SizeRestrictions_BODY",
            "CrossSiteScripting_BODY",
            "GenericLFI_BODY",
            "GenericRFI_BODY",
            "EC2MetaDataSSRF_BODY",
        ),
        "awswaf:managed:aws:core-rule-set:",
    ),
    "AWSManagedRulesKnownBadInputsRuleSet": (
        ("Log4JRCE_BODY", "JavaDeserializationRCE_BODY"),
        "awswaf:managed:aws:known-bad-inputs:",
    ),
}
RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", *BODY_RULES)
REDACTED_HEADERS = ("authorization", "x-api-key", "api-key", "x-litellm-api-key")


def _visibility(name: str) -> dict[str, Any]:
    return {"CloudWatchMetricsEnabled": True, "MetricName": name, "SampledRequestsEnabled": True}


def body_label(namespace: str, rule: str) -> str:
    """AWS labels body rules `<namespace><Name>_Body` (rule `X_BODY` -> label `X_Body`)."""
    return namespace + rule.removesuffix("_BODY") + "_Body"


def _label(key: str) -> dict[str, Any]:
    return {"LabelMatchStatement": {"Scope": "LABEL", "Key": key}}


def web_acl_rules(env: Environment) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "Name": "RatePerClient",
            "Priority": 0,
            "Action": {"Block": {}},
            "Statement": {
                "RateBasedStatement": {
                    "Limit": env.gateway.exposure.client_requests_per_5min,
                    "AggregateKeyType": "IP",
                }
            },
            "VisibilityConfig": _visibility("RatePerClient"),
        }
    ]
    for priority, name in enumerate(RULE_GROUPS, start=1):
        body_rules = BODY_RULES.get(name, ((), ""))[0]
        statement: dict[str, Any] = {"VendorName": "AWS", "Name": name}
        if body_rules:
            statement["RuleActionOverrides"] = [{"Name": r, "ActionToUse": {"Count": {}}} for r in body_rules]
        rules.append(
            {
                "Name": name,
                "Priority": priority,
                "OverrideAction": {"None": {}},
                "Statement": {"ManagedRuleGroupStatement": statement},
                "VisibilityConfig": _visibility(name),
            }
        )
    labels = [body_label(ns, r) for rules_, ns in BODY_RULES.values() for r in rules_]
    rules.append(
        {
            "Name": "BodyRulesOutsideInference",
            "Priority": len(RULE_GROUPS) + 1,
            "Action": {"Block": {}},
            "Statement": {
                "AndStatement": {
                    "Statements": [
                        {"OrStatement": {"Statements": [_label(k) for k in labels]}},
                        {
                            "NotStatement": {
                                "Statement": {
                                    "ByteMatchStatement": {
                                        "FieldToMatch": {"UriPath": {}},
                                        "PositionalConstraint": "STARTS_WITH",
                                        "SearchString": INFERENCE_PREFIX,
                                        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                                    }
                                }
                            }
                        },
                    ]
                }
            },
            "VisibilityConfig": _visibility("BodyRulesOutsideInference"),
        }
    )
    return rules


class GatewayWaf(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: Sequence[Mapping[str, Any]],
        basics: Basics,
        resource_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name="gateway", sampled_requests_enabled=True
            ),
        )
        self.acl.add_property_override("Rules", list(rules))
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=resource_arn, web_acl_arn=self.acl.attr_arn)
        self._logging(basics)

    def _logging(self, basics: Basics) -> None:
        stack = Stack.of(self)
        # WAF requires the `aws-waf-logs-` prefix; the stack name (from deployment.prefix) keeps deployments apart.
        name = f"aws-waf-logs-{stack.stack_name}"
        key = encryption_key(self, "LogsKey", basics, "WAF logs", for_logs=True)
        group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=name,
            encryption_key=key,
            retention=retention(basics.log_retention_days),
            removal_policy=basics.removal,
        )
        destination = stack.format_arn(
            service="logs", resource="log-group", resource_name=name, arn_format=_colon_format()
        )
        config = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.acl.attr_arn,
            log_destination_configs=[destination],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": h}) for h in REDACTED_HEADERS
            ],
        )
        config.node.add_dependency(group)


def _colon_format() -> Any:
    from aws_cdk import ArnFormat

    return ArnFormat.COLON_RESOURCE_NAME
