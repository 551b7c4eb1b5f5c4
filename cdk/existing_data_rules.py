"""Security-group rules between the gateway and existing data stores (config `database.existing`, `cache.existing`,
issue 18): ingress on the groups the estate gives, egress from the gateway's service group."""

from __future__ import annotations

import re

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cdk.props import ExistingStores


def existing_store_peers(stores: ExistingStores) -> list[tuple[str, str, int, str]]:
    """(name, security group id, port, what) of every existing store's group gatekit admits the gateway to."""
    out: list[tuple[str, str, int, str]] = []
    if stores.database is not None:
        db = stores.database
        out += [("Database", sg, db.port, "existing Aurora cluster") for sg in db.security_group_ids]
    if stores.cache is not None:
        cache = stores.cache
        out += [("Cache", sg, cache.port, "existing ElastiCache") for sg in cache.security_group_ids]
    return out


def _cid(prefix: str, name: str, group_id: str) -> str:
    return f"{prefix}{name}" + re.sub(r"[^A-Za-z0-9]", "", group_id.title())


def admit_to_existing_stores(
    scope: Construct, stores: ExistingStores, prefix: str, source_group_id: str, *, source: str
) -> None:
    """An ingress rule on each given security group of an existing store, from the gateway's group `source_group_id`
    (ECS tasks: the service group; EKS: the cluster group). The rules belong to this deployment's stack and go with
    it; without given groups, the estate admits the gateway itself (docs/aws.md)."""
    for name, group_id, port, what in existing_store_peers(stores):
        ec2.CfnSecurityGroupIngress(
            scope,
            _cid("AdmitTo", name, group_id),
            group_id=group_id,
            source_security_group_id=source_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"{prefix}: {source} to the {what}",
        )


def egress_to_existing_stores(
    scope: Construct, stores: ExistingStores, vpc_cidr: str, service_group: ec2.ISecurityGroup
) -> None:
    """The ECS service group allows no egress but what it needs: each existing store's port, to its given groups, or
    to the VPC's CIDR when the estate admits the gateway itself."""
    for name, existing in (("Database", stores.database), ("Cache", stores.cache)):
        if existing is None:
            continue
        for group_id in existing.security_group_ids:
            ec2.CfnSecurityGroupEgress(
                scope,
                _cid("EgressTo", name, group_id),
                group_id=service_group.security_group_id,
                destination_security_group_id=group_id,
                ip_protocol="tcp",
                from_port=existing.port,
                to_port=existing.port,
                description=f"Gateway tasks to the existing {name.lower()}",
            )
        if not existing.security_group_ids:
            service_group.add_egress_rule(
                ec2.Peer.ipv4(vpc_cidr),
                ec2.Port.tcp(existing.port),
                f"Gateway tasks to the existing {name.lower()} (in the VPC)",
            )
