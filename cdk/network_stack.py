"""Network: the VPC (2 to 3 AZs, public / private / isolated modes), flow logs, VPC endpoints and the security groups
that wire the tiers together (load balancer -> gateway -> database / cache). Security groups live here so the data and
gateway stacks can reference them without cross-stack cycles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack
from urllib.parse import urlparse

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cdk.existing_data_rules import admit_to_existing_stores, egress_to_existing_stores
from cdk.existing_network import client_peers, import_vpc, s3_gateway_endpoint
from cdk.policy import skip_checkov, suppress_nag
from cdk.props import EgressRule, ExistingStores, NetworkProps, SecurityGroups
from cdk.shared import StackOptions, as_interface, encryption_key, log_group
from gatekit.config import Environment
from gatekit.config.network_access import public_listener
from gatekit.render.agent_egress import security_group_egress

DB_PORT = 5432
CACHE_PORT = 6379
HTTPS = 443

APP_SUBNETS = "app"
DATA_SUBNETS = "data"
INGRESS_SUBNETS = "ingress"


def availability_zones(env: Environment) -> list[str]:
    """Explicit AZ names, so a 3-AZ VPC synthesizes without account lookups (`<region>a`, `b`, `c`)."""
    assert env.aws is not None
    return [f"{env.aws.region}{letter}" for letter in "abc"[: env.network.az_count]]


def agent_egress(env: Environment) -> tuple[EgressRule, ...]:
    """MCP servers and A2A agents the gateway's security group reaches, one rule per peer (issue 19)."""
    return tuple(
        EgressRule(cidr=rule["cidr"], port=rule["port"], description=rule["description"])
        for rule in security_group_egress(env)
    )


def existing_stores(env: Environment) -> ExistingStores:
    """The enabled existing data stores of the estate (issue 18)."""
    return ExistingStores(
        database=env.database.existing if env.database.enabled else None,
        cache=env.cache.existing if env.cache.enabled else None,
    )


def upstream_ports(env: Environment) -> list[int]:
    """Non-HTTPS ports of model upstreams (e.g. an in-network vLLM on :8000) the gateway must reach."""
    ports: set[int] = set()
    for model in env.gateway.models:
        params = model.litellm_params
        if params is None or not params.api_base:
            continue
        url = urlparse(params.api_base)
        port = url.port or (HTTPS if url.scheme == "https" else 80)
        if port != HTTPS:
            ports.add(port)
    return sorted(ports)


def internal_ingress_peers(cidrs: Sequence[str], vpc_cidr: str) -> list[ec2.IPeer]:
    """allowed_ingress_cidrs on an internal load balancer (the whole internet means nothing more than the VPC)."""
    return [ec2.Peer.ipv4(c) for c in cidrs if c not in ("0.0.0.0/0", vpc_cidr)]


def public_load_balancer(env: Environment) -> bool:
    """Internet-facing HTTPS needs a domain (for the certificate) and a network with an internet route (one rule:
    gatekit.config.network_access, which also makes such a listener name its clients)."""
    return public_listener(env)


class NetworkStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: NetworkProps, **kwargs: Unpack[StackOptions]
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.props = props
        net = props.network
        self.vpc: ec2.IVpc
        if net.existing is not None:  # estate (issue 18): an existing VPC, imported without lookups
            self.vpc = import_vpc(self, net, private_group=APP_SUBNETS, public_group=INGRESS_SUBNETS)
            s3_gateway_endpoint(self, net, self.vpc, private_group=APP_SUBNETS)
            self._interface_endpoints()
            self.security_groups = self._security_groups()
            return
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(net.cidr),
            availability_zones=list(props.availability_zones),
            nat_gateways=net.az_count if net.mode == "private" else 0,
            subnet_configuration=self._subnets(),
            restrict_default_security_group=True,
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)}
            if "s3" in net.endpoints and net.mode != "public"
            else None,
        )
        self.vpc = as_interface(vpc, ec2.IVpc)
        if net.flow_logs:
            self._flow_logs()
        if net.mode != "public":
            self._interface_endpoints()
        self.security_groups = self._security_groups()

    @property
    def app_subnets(self) -> ec2.SubnetSelection:
        if self.props.network.mode == "public":
            return ec2.SubnetSelection(subnet_group_name=INGRESS_SUBNETS)
        return ec2.SubnetSelection(subnet_group_name=APP_SUBNETS)

    @property
    def data_subnets(self) -> ec2.SubnetSelection:
        if self.props.network.existing is not None:  # estate: data stores share the estate's private subnets
            return ec2.SubnetSelection(subnet_group_name=APP_SUBNETS)
        return ec2.SubnetSelection(subnet_group_name=DATA_SUBNETS)

    @property
    def alb_subnets(self) -> ec2.SubnetSelection:
        if self.props.public_load_balancer:
            return ec2.SubnetSelection(subnet_group_name=INGRESS_SUBNETS)
        return self.app_subnets

    def _subnets(self) -> list[ec2.SubnetConfiguration]:
        mode = self.props.network.mode
        subnets: list[ec2.SubnetConfiguration] = []
        if mode != "isolated":
            subnets.append(
                ec2.SubnetConfiguration(name=INGRESS_SUBNETS, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            )
        if mode != "public":
            app_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if mode == "private" else ec2.SubnetType.PRIVATE_ISOLATED
            subnets.append(ec2.SubnetConfiguration(name=APP_SUBNETS, subnet_type=app_type, cidr_mask=20))
        subnets.append(
            ec2.SubnetConfiguration(name=DATA_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
        )
        return subnets

    def _flow_logs(self) -> None:
        key = encryption_key(self, "FlowLogsKey", self.props.basics, "VPC flow logs", for_logs=True)
        group = log_group(self, "FlowLogs", self.props.basics, key)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _interface_endpoints(self) -> None:
        sg = ec2.SecurityGroup(
            self,
            "EndpointsSg",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from the VPC",
            allow_all_outbound=False,
        )
        sg.add_ingress_rule(ec2.Peer.ipv4(self.vpc.vpc_cidr_block), ec2.Port.tcp(HTTPS), "HTTPS from inside the VPC")
        for name in self.props.interface_endpoints:  # configured + bedrock-runtime, minus the estate's
            self.vpc.add_interface_endpoint(
                f"Endpoint-{name.replace('.', '-')}",
                service=ec2.InterfaceVpcEndpointAwsService(name),
                private_dns_enabled=True,
                security_groups=[sg],
                subnets=self.app_subnets,
            )

    def _security_groups(self) -> SecurityGroups:
        props = self.props
        port = props.gateway_port
        vpc_cidr = ec2.Peer.ipv4(self.vpc.vpc_cidr_block)
        alb = ec2.SecurityGroup(
            self, "AlbSg", vpc=self.vpc, description="Gateway load balancer", allow_all_outbound=False
        )
        service = ec2.SecurityGroup(
            self, "ServiceSg", vpc=self.vpc, description="Gateway tasks", allow_all_outbound=False
        )
        database = ec2.SecurityGroup(
            self, "DatabaseSg", vpc=self.vpc, description="Aurora PostgreSQL", allow_all_outbound=False
        )
        cache = ec2.SecurityGroup(self, "CacheSg", vpc=self.vpc, description="ElastiCache", allow_all_outbound=False)

        listener_ports = [HTTPS, 80] if props.tls else [80]
        if props.public_load_balancer:
            sources = [ec2.Peer.ipv4(cidr) for cidr in props.ingress_cidrs]
            if "0.0.0.0/0" in props.ingress_cidrs:
                suppress_nag(
                    alb,
                    "AwsSolutions-EC23",
                    "Public LLM gateway endpoint; clients are restricted by "
                    "network.allowed_ingress_cidrs, set to the internet explicitly.",
                )
                skip_checkov(alb, "CKV_AWS_260", "Port 80 only answers with a redirect to HTTPS (listener rule).")
        else:
            # Internal listeners: the VPC, the peered/on-prem networks of network.allowed_ingress_cidrs (security,
            # issue 12) and the estate's client prefix list (issue 18).
            sources = [
                vpc_cidr,
                *internal_ingress_peers(props.ingress_cidrs, props.network.cidr),
                *client_peers(props.network),
            ]
        for source in sources:
            for listener_port in listener_ports:
                purpose = "HTTPS" if listener_port == HTTPS else ("HTTP, redirected to HTTPS" if props.tls else "HTTP")
                alb.add_ingress_rule(source, ec2.Port.tcp(listener_port), f"{purpose} from allowed clients")
        alb.add_egress_rule(service, ec2.Port.tcp(port), "Gateway tasks")

        service.add_ingress_rule(alb, ec2.Port.tcp(port), "From the load balancer")
        service.add_egress_rule(database, ec2.Port.tcp(DB_PORT), "Aurora PostgreSQL")
        service.add_egress_rule(cache, ec2.Port.tcp(CACHE_PORT), "ElastiCache")
        # In isolated mode the route tables have no internet route: HTTPS then reaches only the VPC endpoints and the
        # S3 gateway endpoint (whose prefix list id is not known at synth time).
        service.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "Model providers and AWS APIs")
        for upstream in props.upstream_ports:
            service.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(upstream), "Model upstream (api_base port)")
        for rule in props.agent_egress:  # MCP servers and A2A agents, one rule per peer (issue 19)
            service.add_egress_rule(ec2.Peer.ipv4(rule.cidr), ec2.Port.tcp(rule.port), rule.description)

        database.add_ingress_rule(service, ec2.Port.tcp(DB_PORT), "Gateway and migrations tasks")
        cache.add_ingress_rule(service, ec2.Port.tcp(CACHE_PORT), "Gateway tasks")
        # estate (issue 18): existing Aurora / ElastiCache admit the gateway tasks (EKS pods: the gateway stack).
        stores = props.existing_stores
        egress_to_existing_stores(self, stores, props.network.cidr, service)
        if props.admit_tasks_to_existing_stores:
            admit_to_existing_stores(
                self, stores, props.basics.prefix, service.security_group_id, source="gateway tasks"
            )
        return SecurityGroups(
            alb=as_interface(alb, ec2.ISecurityGroup),
            service=as_interface(service, ec2.ISecurityGroup),
            database=as_interface(database, ec2.ISecurityGroup),
            cache=as_interface(cache, ec2.ISecurityGroup),
        )
