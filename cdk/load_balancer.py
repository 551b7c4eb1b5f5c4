"""The gateway's Application Load Balancer: HTTPS with a TLS 1.2+ policy and HTTP->HTTPS redirect when the
environment has a domain, an internal HTTP listener inside the VPC when it has none; access logs; optional WAF."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk.access_logs import access_log_bucket
from cdk.network_stack import public_load_balancer
from cdk.policy import skip_checkov
from gatekit.config import Environment

TLS_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS  # ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.3 and 1.2 only
WAF_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)


class GatewayLoadBalancer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: Environment,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.env_config = env
        self.https = env.domain is not None
        internet_facing = public_load_balancer(env)
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=internet_facing,
            security_group=security_group,
            drop_invalid_header_fields=True,
            deletion_protection=env.database.deletion_protection,
            idle_timeout=Duration.seconds(min(int(env.gateway.routing.timeout_seconds) + 5, 4000)),
        )
        self.alb.log_access_logs(self._access_log_bucket())
        if self.https:
            self.listener = self._https_listener(env)
        else:
            self.listener = self.alb.add_listener("Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False)
            skip_checkov(
                self.listener,
                "CKV_AWS_2",
                "No domain is configured, so no certificate can exist: the load balancer is internal and its HTTP "
                "listener is reachable only from inside the VPC (security group). Set `domain` for HTTPS.",
            )
            skip_checkov(self.listener, "CKV_AWS_103", "Plain HTTP inside the VPC only (no domain, no certificate).")
        if env.network.waf and internet_facing:
            self._waf()
        else:
            skip_checkov(
                self.alb,
                "CKV2_AWS_28",
                "WAF is attached to internet-facing load balancers (network.waf); this one is internal or WAF is off.",
            )

    @property
    def url(self) -> str:
        if self.env_config.domain is not None:
            return f"https://{self.env_config.domain.name}"
        return f"http://{self.alb.load_balancer_dns_name}"

    def _access_log_bucket(self) -> s3.Bucket:
        return access_log_bucket(
            self,
            self.env_config,
            source="ALB",
            archive_reason="Access logs of one regional load balancer; archiving is account-level.",
        )

    def _https_listener(self, env: Environment) -> elbv2.ApplicationListener:
        assert env.domain is not None
        domain = env.domain
        zone = (
            route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.name.split(".", 1)[1]
            )
            if domain.hosted_zone_id
            else None
        )
        if domain.certificate_arn:
            certificate: acm.ICertificate = acm.Certificate.from_certificate_arn(
                self, "Certificate", domain.certificate_arn
            )
        else:
            certificate = acm.Certificate(
                self, "Certificate", domain_name=domain.name, validation=acm.CertificateValidation.from_dns(zone)
            )
        listener = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=TLS_POLICY,
            open=False,
        )
        self.alb.add_redirect(source_port=80, target_port=443, open=False)
        if zone is not None:
            route53.ARecord(
                self,
                "Alias",
                zone=zone,
                record_name=domain.name + ".",
                target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(self.alb)),
            )
        return listener

    def _waf(self) -> None:
        rules = []
        for priority, name in enumerate(WAF_RULE_GROUPS):
            # Prompts are routinely larger than the common rule group's 8 KB body limit: count, do not block.
            overrides = (
                [
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name="SizeRestrictions_BODY", action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                ]
                if name == "AWSManagedRulesCommonRuleSet"
                else None
            )
            statement = wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides
            )
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=name,
                    priority=priority,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=statement),
                    visibility_config=_visibility(name),
                )
            )
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("gateway"),
            rules=rules,
        )
        skip_checkov(
            acl,
            "CKV2_AWS_31",
            "WAF sampled requests and CloudWatch metrics are on; full WAF logging needs an `aws-waf-logs-` named "
            "destination (a fixed physical name) and is left to the account's central logging.",
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.alb.load_balancer_arn, web_acl_arn=acl.attr_arn
        )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )
