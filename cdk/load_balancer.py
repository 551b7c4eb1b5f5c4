"""The gateway's Application Load Balancer: HTTPS only (TLS 1.2+, HTTP->HTTPS redirect), internet-facing or internal
(`domain.internal`), with a certificate that is imported, issued by ACM Private CA, or DNS-validated in the hosted
zone; listener rules that forward only `gateway.exposure` (cdk.front_door); access logs; the WAF (cdk.waf)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_acmpca as acmpca
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.access_logs import access_log_bucket
from cdk.front_door import forward_exposed_paths
from cdk.policy import skip_checkov
from cdk.props import FrontDoor
from cdk.shared import as_interface
from cdk.waf import GatewayWaf
from gatekit.config.environment import Domain

TLS_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS  # ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.3 and 1.2 only


def gateway_certificate(
    scope: Construct, environment_name: str, domain: Domain | None, zone: route53.IHostedZone | None
) -> acm.ICertificate:
    """The certificate of `domain.name`: imported, issued by ACM Private CA, or DNS-validated in the hosted zone (the
    ALB on ECS and the NLB on EKS terminate TLS with it)."""
    if domain is None:
        raise ValueError(f"environment `{environment_name}`: an AWS load balancer needs `domain` (TLS only)")
    if domain.certificate_arn:
        return acm.Certificate.from_certificate_arn(scope, "Certificate", domain.certificate_arn)
    if domain.private_ca_arn:
        authority = acmpca.CertificateAuthority.from_certificate_authority_arn(
            scope, "PrivateCa", domain.private_ca_arn
        )
        return acm.PrivateCertificate(scope, "Certificate", domain_name=domain.name, certificate_authority=authority)
    if zone is None:
        raise ValueError(f"domain `{domain.name}`: no certificate_arn, private_ca_arn or hosted_zone_id")
    return acm.Certificate(
        scope, "Certificate", domain_name=domain.name, validation=acm.CertificateValidation.from_dns(zone)
    )


class GatewayLoadBalancer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        front_door: FrontDoor,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.front_door = front_door
        self.vpc = vpc
        self.https = True
        internet_facing = front_door.public
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=internet_facing,
            security_group=security_group,
            drop_invalid_header_fields=True,
            deletion_protection=front_door.deletion_protection,
            idle_timeout=Duration.seconds(front_door.idle_timeout_seconds),
        )
        self.alb.log_access_logs(self._access_log_bucket())
        if front_door.domain is None:
            # gatekit.config.tls_checks refuses this at validation; never a plaintext listener.
            raise ValueError(
                f"environment `{front_door.environment_name}`: an AWS load balancer needs `domain` (HTTPS only)"
            )
        self.listener = self._https_listener(front_door.domain)
        if front_door.waf_rules is not None:
            self.waf = GatewayWaf(
                self,
                "Waf",
                rules=front_door.waf_rules,
                basics=front_door.basics,
                resource_arn=self.alb.load_balancer_arn,
            )
        else:
            skip_checkov(self.alb, "CKV2_AWS_28", "WAF is switched off in this environment (network.waf: false).")

    def add_gateway_targets(
        self,
        construct_id: str,
        *,
        port: int,
        targets: Sequence[elbv2.IApplicationLoadBalancerTarget],
        deregistration_delay: Duration,
        health_check: elbv2.HealthCheck,
    ) -> elbv2.ApplicationTargetGroup:
        """The gateway's target group (plain HTTP inside the VPC; the ALB terminates TLS), reached only through the
        exposure rules (unmatched paths: 404)."""
        group = elbv2.ApplicationTargetGroup(
            self.listener,
            construct_id + "Group",
            vpc=self.vpc,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=targets,
            deregistration_delay=deregistration_delay,
            health_check=health_check,
        )
        forward_exposed_paths(self.listener, group, self.front_door.exposure)
        return group

    @property
    def url(self) -> str:
        assert self.front_door.domain is not None
        return f"https://{self.front_door.domain.name}"

    def _access_log_bucket(self) -> s3.Bucket:
        return access_log_bucket(
            self,
            self.front_door.basics.log_retention_days,
            source="ALB",
            archive_reason="Access logs of one regional load balancer; archiving is account-level.",
        )

    def _https_listener(self, domain: Domain) -> elbv2.ApplicationListener:
        zone = (
            route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.name.split(".", 1)[1]
            )
            if domain.hosted_zone_id
            else None
        )
        certificate = gateway_certificate(self, self.front_door.environment_name, domain, zone)
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
                target=route53.RecordTarget.from_alias(
                    as_interface(targets.LoadBalancerTarget(self.alb), route53.IAliasRecordTarget)
                ),
            )
        return listener
