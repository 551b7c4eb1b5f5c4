"""An existing VPC (config `network.existing`), imported from literal ids with `Vpc.from_vpc_attributes`: no synth-time
lookups, so synthesis stays offline and credential-free. gatekit then creates only its security groups and the VPC
endpoints the estate does not already have (`network.existing.existing_endpoints`)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from gatekit.config.environment import Network as NetworkConfig


def import_vpc(scope: Construct, network: NetworkConfig, *, private_group: str, public_group: str) -> ec2.IVpc:
    """The estate's VPC: its private subnets form the `private_group` (gateway, endpoints, data stores), its public
    subnets (if any) the `public_group` (internet-facing load balancer)."""
    existing = network.existing
    assert existing is not None
    private = existing.private_subnets
    attributes: dict[str, object] = {
        "vpc_id": existing.vpc_id,
        "vpc_cidr_block": existing.vpc_cidr,
        "availability_zones": [s.availability_zone for s in private],
        "private_subnet_ids": [s.id for s in private],
        "private_subnet_names": [private_group],
    }
    if all(s.route_table_id for s in private):
        attributes["private_subnet_route_table_ids"] = [s.route_table_id for s in private]
    public = existing.public_subnets
    if public:
        attributes["public_subnet_ids"] = [s.id for s in public]
        attributes["public_subnet_names"] = [public_group]
        if all(s.route_table_id for s in public):
            attributes["public_subnet_route_table_ids"] = [s.route_table_id for s in public]
    return ec2.Vpc.from_vpc_attributes(scope, "Vpc", **attributes)  # type: ignore[arg-type]


def s3_gateway_endpoint(scope: Construct, network: NetworkConfig, vpc: ec2.IVpc, *, private_group: str) -> None:
    """The S3 gateway endpoint on the private subnets' route tables, unless the estate already has one."""
    existing = network.existing
    assert existing is not None
    if "s3" not in network.endpoints or "s3" in existing.existing_endpoints or network.mode == "public":
        return
    ec2.GatewayVpcEndpoint(
        scope,
        "S3Endpoint",
        vpc=vpc,
        service=ec2.GatewayVpcEndpointAwsService.S3,
        subnets=[ec2.SubnetSelection(subnet_group_name=private_group)],
    )


def client_peers(network: NetworkConfig) -> list[ec2.IPeer]:
    """Extra load balancer clients: the estate's managed prefix list of client networks, if configured."""
    existing = network.existing
    if existing is None or existing.client_prefix_list_id is None:
        return []
    return [ec2.Peer.prefix_list(existing.client_prefix_list_id)]
