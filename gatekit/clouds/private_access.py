"""Who reaches the control planes and the stores of the Pulumi targets (security, issue 12).

`network.deployer_cidrs` names the networks `pulumi up` runs from; nothing else reaches the cluster API, Key Vault or
the config storage account from outside the network:

- GKE: private nodes always; the control plane has a private endpoint only, or (deployer_cidrs given) a public
  endpoint restricted to master authorized networks (the VPC's own range plus deployer_cidrs), never Google's public
  ranges.
- AKS: a private cluster (API server on a private IP, system-managed private DNS zone), or (deployer_cidrs given) a
  public API server restricted to authorized IP ranges; nodes never get public IPs.
- Azure Key Vault and the config storage account: public network access off and reached by pods through private
  endpoints; with deployer_cidrs the firewall admits those networks only (default action Deny).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_azure_native as azure

if TYPE_CHECKING:
    import pulumi_gcp as gcp

from gatekit.clouds.common import Ctx
from gatekit.config import Environment


def gke_private_cluster(env: Environment, master_range: str) -> gcp.container.ClusterPrivateClusterConfigArgsDict:
    return {
        "enable_private_nodes": True,
        "enable_private_endpoint": not env.network.deployer_cidrs,
        "master_ipv4_cidr_block": master_range,
    }


def gke_authorized_networks(env: Environment) -> gcp.container.ClusterMasterAuthorizedNetworksConfigArgsDict:
    cidrs = [("vpc", env.network.cidr), *((f"deployer-{i}", c) for i, c in enumerate(env.network.deployer_cidrs))]
    return {
        "cidr_blocks": [{"cidr_block": cidr, "display_name": name} for name, cidr in cidrs],
        "gcp_public_cidrs_access_enabled": False,
    }


def aks_api_access(env: Environment) -> azure.containerservice.ManagedClusterAPIServerAccessProfileArgsDict:
    if env.network.deployer_cidrs:
        return {"enable_private_cluster": False, "authorized_ip_ranges": list(env.network.deployer_cidrs)}
    return {"enable_private_cluster": True, "private_dns_zone": "system", "enable_private_cluster_public_fqdn": False}


def public_access(env: Environment) -> str:
    """`public_network_access` of Key Vault and the storage account: on only for the deployer's networks."""
    return "Enabled" if env.network.deployer_cidrs else "Disabled"


def vault_firewall(env: Environment) -> azure.keyvault.NetworkRuleSetArgsDict:
    """Key Vault `properties.network_acls`: default Deny, no trusted-service bypass, the deployer's networks only."""
    return {
        "default_action": azure.keyvault.NetworkRuleAction.DENY,
        "bypass": azure.keyvault.NetworkRuleBypassOptions.NONE,
        "ip_rules": [{"value": c} for c in env.network.deployer_cidrs],
    }


def storage_firewall(env: Environment) -> azure.storage.NetworkRuleSetArgsDict:
    """StorageAccount `network_rule_set`: default Deny, no trusted-service bypass, the deployer's networks only."""
    return {
        "default_action": azure.storage.DefaultAction.DENY,
        "bypass": azure.storage.Bypass.NONE,
        "ip_rules": [
            {"i_p_address_or_range": c, "action": azure.storage.Action.ALLOW} for c in env.network.deployer_cidrs
        ],
    }


def private_link(
    ctx: Ctx,
    key: str,
    *,
    group: azure.resources.ResourceGroup,
    vnet: azure.network.VirtualNetwork,
    subnet: pulumi.Input[str],
    target: pulumi.Input[str],
    group_id: str,
    zone: str,
) -> azure.network.PrivateEndpoint:
    """A private endpoint for one sub-resource (`vault`, `blob`) with its privatelink DNS zone linked to the VNet."""
    dns = azure.privatedns.PrivateZone(
        f"{ctx.name}-{key}-dns",
        resource_group_name=group.name,
        private_zone_name=zone,
        location="global",
        tags=ctx.labels,
        opts=ctx.opts,
    )
    azure.privatedns.VirtualNetworkLink(
        f"{ctx.name}-{key}-dns-link",
        resource_group_name=group.name,
        private_zone_name=dns.name,
        location="global",
        virtual_network={"id": vnet.id},
        registration_enabled=False,
        tags=ctx.labels,
        opts=ctx.opts,
    )
    endpoint = azure.network.PrivateEndpoint(
        f"{ctx.name}-{key}-endpoint",
        resource_group_name=group.name,
        subnet={"id": subnet},
        private_link_service_connections=[{"name": key, "private_link_service_id": target, "group_ids": [group_id]}],
        tags=ctx.labels,
        opts=ctx.opts,
    )
    azure.network.PrivateDnsZoneGroup(
        f"{ctx.name}-{key}-dns-group",
        resource_group_name=group.name,
        private_endpoint_name=endpoint.name,
        private_dns_zone_configs=[{"name": key, "private_dns_zone_id": dns.id}],
        opts=ctx.opts,
    )
    return endpoint
