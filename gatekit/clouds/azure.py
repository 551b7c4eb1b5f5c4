"""Azure: AKS with workload identity and the Key Vault secrets provider, the data services of azure_data, and the
gateway component with traces to Azure Monitor (Application Insights) through the collector."""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s
import yaml

from gatekit.clouds.azure_data import (
    AKS_RBAC_CLUSTER_ADMIN,
    KEY_VAULT_SECRETS_USER,
    NETWORK_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
    AzureCache,
    AzureCacheArgs,
    AzureDatabase,
    AzureDatabaseArgs,
    ConfigStorage,
    ConfigStorageArgs,
    KeyVault,
    KeyVaultArgs,
    Net,
    invoke_opts,
)
from gatekit.clouds.common import (
    REDIS_URL_ENV,
    Ctx,
    Unit,
    config_document,
    managed_secret_env,
    operator_secrets,
    store_secret_names,
    tags,
)
from gatekit.clouds.component import GatewayArgs, GatewayComponent
from gatekit.clouds.database_tls import DATABASE_CA_FILE, azure_postgres_ca_bundle
from gatekit.clouds.private_access import aks_api_access, public_access, storage_firewall, vault_firewall
from gatekit.config import Environment
from gatekit.config.environment import Kubernetes
from gatekit.render.k8s import CollectorExporter, SecretStore
from gatekit.render.litellm import DATABASE_URL_ENV

APPINSIGHTS_ENV = "APPLICATIONINSIGHTS_CONNECTION_STRING"
POD_CIDR = "100.64.0.0/14"  # overlay pod range: never collides with the VNet or peered networks
SERVICE_CIDR = "100.68.0.0/20"
DNS_SERVICE_IP = "100.68.0.10"
DEFAULT_VM = "Standard_D4s_v5"


@dataclass(frozen=True)
class AzureNetworkArgs:
    group: azure.resources.ResourceGroup
    cidr: str


class AzureNetwork(Unit):
    """The VNet and its subnets. `net`."""

    def __init__(self, ctx: Ctx, args: AzureNetworkArgs) -> None:
        super().__init__("azure:Network", ctx, "network")
        self.net = network(self.ctx, args)
        self.register_outputs({"vnet": self.net.vnet.id})


def network(ctx: Ctx, args: AzureNetworkArgs) -> Net:
    """One VNet: AKS nodes, a subnet delegated to PostgreSQL, and a subnet for private endpoints."""
    group = args.group
    cidr = ipaddress.ip_network(args.cidr)
    aks, rest = list(cidr.subnets(prefixlen_diff=2))[:2]
    db, endpoints = list(rest.subnets(prefixlen_diff=1))[:2]
    vnet = azure.network.VirtualNetwork(
        f"{ctx.name}-vnet",
        resource_group_name=group.name,
        address_space={"address_prefixes": [str(cidr)]},
        subnets=[
            {"name": "aks", "address_prefix": str(aks)},
            {
                "name": "postgres",
                "address_prefix": str(db),
                "delegations": [{"name": "postgres", "service_name": "Microsoft.DBforPostgreSQL/flexibleServers"}],
            },
            {"name": "endpoints", "address_prefix": str(endpoints)},
        ],
        tags=ctx.labels,
        opts=ctx.opts,
    )

    def subnet(name: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(vnet.id, f"/subnets/{name}")

    return Net(group, vnet, subnet("aks"), subnet("postgres"), subnet("endpoints"))


@dataclass(frozen=True)
class AzureMonitoringArgs:
    group: azure.resources.ResourceGroup
    log_retention_days: int


class AzureMonitoring(Unit):
    """Log Analytics and Application Insights. `workspace`, `connection_string` (Application Insights)."""

    def __init__(self, ctx: Ctx, args: AzureMonitoringArgs) -> None:
        super().__init__("azure:Monitoring", ctx, "monitoring")
        self.workspace, self.connection_string = monitoring(self.ctx, args)
        self.register_outputs({"workspace": self.workspace.name})


def monitoring(ctx: Ctx, args: AzureMonitoringArgs) -> tuple[azure.operationalinsights.Workspace, pulumi.Output[str]]:
    retention = min(730, max(30, args.log_retention_days))
    workspace = azure.operationalinsights.Workspace(
        f"{ctx.name}-logs",
        resource_group_name=args.group.name,
        sku={"name": "PerGB2018"},
        retention_in_days=retention,
        tags=ctx.labels,
        opts=ctx.opts,
    )
    insights = azure.applicationinsights.Component(
        f"{ctx.name}-insights",
        resource_group_name=args.group.name,
        kind="web",
        application_type="web",
        workspace_resource_id=workspace.id,
        ingestion_mode="LogAnalytics",
        tags=ctx.labels,
        opts=ctx.opts,
    )
    return workspace, insights.connection_string


@dataclass(frozen=True)
class AksClusterArgs:
    kubernetes: Kubernetes
    zone_count: int
    public: bool  # the application-routing ingress controller's load balancer is external (else internal)
    dns_prefix: str
    api_access: azure.containerservice.ManagedClusterAPIServerAccessProfileArgsDict
    net: Net
    workspace: azure.operationalinsights.Workspace
    gateway_subject: str  # system:serviceaccount:<namespace>:<service account> of the gateway pods


class AksCluster(Unit):
    """AKS with workload identity, and the gateway's federated identity. `cluster`, `identity`, `kubeconfig`."""

    def __init__(self, ctx: Ctx, args: AksClusterArgs) -> None:
        super().__init__("azure:AksCluster", ctx, "cluster")
        self.cluster = aks(self.ctx, args)
        self.identity = gateway_identity(self.ctx, args.net, self.cluster, args.gateway_subject)
        self.kubeconfig = kubeconfig(self.ctx, args.net, self.cluster)
        self.register_outputs({"cluster": self.cluster.name})


def aks(ctx: Ctx, args: AksClusterArgs) -> azure.containerservice.ManagedCluster:
    kube, net, workspace, public = args.kubernetes, args.net, args.workspace, args.public
    zones = ["1", "2", "3"][: args.zone_count]
    return azure.containerservice.ManagedCluster(
        f"{ctx.name}-aks",
        resource_group_name=net.group.name,
        dns_prefix=args.dns_prefix,
        kubernetes_version=kube.version,
        identity={"type": azure.containerservice.ResourceIdentityType.SYSTEM_ASSIGNED},
        agent_pool_profiles=[
            {
                "name": "system",
                "mode": "System",
                "type": "VirtualMachineScaleSets",
                "os_type": "Linux",
                "vm_size": kube.node_machine_type or DEFAULT_VM,
                "enable_auto_scaling": True,
                "count": kube.node_count_min,
                "min_count": kube.node_count_min,
                "max_count": kube.node_count_max,
                "availability_zones": zones,
                "vnet_subnet_id": net.aks_subnet,
                "enable_node_public_ip": False,
            }
        ],
        # A private API server, or one behind authorized IP ranges (gatekit.clouds.private_access).
        api_server_access_profile=args.api_access,
        network_profile={
            "network_plugin": "azure",
            "network_plugin_mode": "overlay",
            "network_dataplane": "cilium",
            "network_policy": "cilium",  # enforces the gateway NetworkPolicy
            "pod_cidr": POD_CIDR,
            "service_cidr": SERVICE_CIDR,
            "dns_service_ip": DNS_SERVICE_IP,
        },
        oidc_issuer_profile={"enabled": True},
        security_profile={"workload_identity": {"enabled": True}},
        aad_profile={"managed": True, "enable_azure_rbac": True},
        disable_local_accounts=True,
        auto_upgrade_profile={"upgrade_channel": "stable"},
        # The gateway's TLS front door: application routing's managed NGINX (class webapprouting.kubernetes.azure.com)
        # behind an internal load balancer unless the network is public; the Service itself stays ClusterIP.
        ingress_profile={
            "web_app_routing": {
                "enabled": True,
                "nginx": {"default_ingress_controller_type": "External" if public else "Internal"},
            }
        },
        addon_profiles={
            "azureKeyvaultSecretsProvider": {
                "enabled": True,
                "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
            },
            "omsagent": {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": workspace.id}},
        },
        tags=ctx.labels,
        opts=ctx.opts,
    )


def gateway_identity(
    ctx: Ctx, net: Net, cluster: azure.containerservice.ManagedCluster, subject: str
) -> azure.managedidentity.UserAssignedIdentity:
    """A user-assigned identity federated with the gateway's Kubernetes service account (workload identity)."""
    identity = azure.managedidentity.UserAssignedIdentity(
        f"{ctx.name}-gateway-id", resource_group_name=net.group.name, tags=ctx.labels, opts=ctx.opts
    )
    azure.managedidentity.FederatedIdentityCredential(
        f"{ctx.name}-gateway-federation",
        resource_group_name=net.group.name,
        resource_name_=identity.name,
        issuer=cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None),
        subject=subject,
        audiences=["api://AzureADTokenExchange"],
        opts=ctx.opts,
    )
    return identity


def grant(
    ctx: Ctx,
    key: str,
    subscription: pulumi.Input[str],
    role: str,
    scope: Any,
    principal: Any,
    principal_type: str | None = "ServicePrincipal",
) -> azure.authorization.RoleAssignment:
    return azure.authorization.RoleAssignment(
        f"{ctx.name}-{key}",
        principal_id=principal,
        principal_type=principal_type,
        role_definition_id=pulumi.Output.concat(
            "/subscriptions/", subscription, f"/providers/Microsoft.Authorization/roleDefinitions/{role}"
        ),
        scope=scope,
        opts=ctx.opts,
    )


def non_interactive(kubeconfig_text: str) -> str:
    """The cluster user kubeconfig logs in with kubelogin's interactive device code; `pulumi up` cannot answer it.
    Rewrite each kubelogin user to `--login azurecli`: the token of the Azure CLI session the deployer already runs
    Pulumi with (in CI: `az login --service-principal` / workload identity federation)."""
    config: dict[str, Any] = yaml.safe_load(kubeconfig_text)
    users: list[dict[str, Any]] = config.get("users") or []
    for user in users:
        entry: dict[str, Any] = user.get("user") or {}
        exec_: dict[str, Any] | None = entry.get("exec")
        if not exec_ or exec_.get("command") != "kubelogin":
            continue
        args: list[str] = list(exec_.get("args") or [])
        if "--server-id" not in args:
            raise pulumi.RunError("the AKS kubeconfig's kubelogin user names no --server-id")
        server_id = args[args.index("--server-id") + 1]
        exec_["args"] = ["get-token", "--login", "azurecli", "--server-id", server_id]
        exec_["interactiveMode"] = "Never"
    return yaml.safe_dump(config, sort_keys=False)


def kubeconfig(ctx: Ctx, net: Net, cluster: azure.containerservice.ManagedCluster) -> pulumi.Output[str]:
    """The cluster's user kubeconfig (Entra ID through kubelogin, non-interactive; local accounts are disabled)."""
    creds = azure.containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=net.group.name, resource_name=cluster.name, opts=invoke_opts(ctx)
    )
    return pulumi.Output.secret(
        creds.kubeconfigs[0].value.apply(lambda v: non_interactive(base64.b64decode(v).decode()))
    )


def deploy(env: Environment) -> dict[str, Any]:
    assert env.azure is not None
    name = env.deployment.prefix
    provider = azure.Provider(f"{name}-azure", location=env.azure.location, subscription_id=env.azure.subscription_id)
    ctx = Ctx(env=env, name=name, labels=tags(env), opts=pulumi.ResourceOptions(provider=provider))
    client = azure.authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=provider))
    group = azure.resources.ResourceGroup(f"{name}-rg", tags=ctx.labels, opts=ctx.opts)
    net = AzureNetwork(ctx, AzureNetworkArgs(group=group, cidr=env.network.cidr)).net
    logs = AzureMonitoring(
        ctx, AzureMonitoringArgs(group=group, log_retention_days=env.observability.log_retention_days)
    )
    aks_unit = AksCluster(
        ctx,
        AksClusterArgs(
            kubernetes=env.kubernetes,
            zone_count=env.network.az_count,
            public=env.network.mode == "public",
            dns_prefix=env.deployment.prefix,
            api_access=aks_api_access(env),
            net=net,
            workspace=logs.workspace,
            gateway_subject=f"system:serviceaccount:{env.kubernetes.namespace}:{env.deployment.prefix}-gateway",
        ),
    )
    cluster, identity = aks_unit.cluster, aks_unit.identity

    # The deployer administers the cluster through Azure RBAC (local accounts are disabled), so `up` can apply the
    # gateway's manifests in the same run.
    deployer_admin = grant(
        ctx, "aks-deployer-admin", client.subscription_id, AKS_RBAC_CLUSTER_ADMIN, cluster.id, client.object_id, None
    )

    generated: dict[str, pulumi.Output[str]] = {APPINSIGHTS_ENV: logs.connection_string}
    if env.database.enabled and env.database.url is None:
        database_args = AzureDatabaseArgs(database=env.database, zone_prefix=env.deployment.prefix, net=net)
        generated[DATABASE_URL_ENV] = AzureDatabase(ctx, database_args).url
    if env.cache.enabled and env.cache.url is None:
        generated[REDIS_URL_ENV] = AzureCache(ctx, AzureCacheArgs(cache=env.cache, net=net)).url
    storage = ConfigStorage(
        ctx,
        ConfigStorageArgs(
            document=config_document(env),
            zone_redundant=env.database.deletion_protection,
            public_network_access=public_access(env),
            firewall=storage_firewall(env),
            net=net,
        ),
    )
    account, config_uri = storage.account, storage.uri
    managed = managed_secret_env(env)
    names = store_secret_names(env, [*managed, APPINSIGHTS_ENV])
    values = {**operator_secrets(env, [*managed, APPINSIGHTS_ENV]), **generated}
    vault = KeyVault(
        ctx,
        KeyVaultArgs(
            tenant_id=client.tenant_id,
            names=names,
            values=values,
            protect=env.database.deletion_protection,
            public_network_access=public_access(env),
            firewall=vault_firewall(env),
            net=net,
        ),
    ).vault
    grant(ctx, "kv-reader", client.subscription_id, KEY_VAULT_SECRETS_USER, vault.id, identity.principal_id)
    grant(ctx, "config-reader", client.subscription_id, STORAGE_BLOB_DATA_READER, account.id, identity.principal_id)
    # The cluster places its (internal) load balancers in the custom VNet.
    cluster_principal = cluster.identity.apply(lambda i: i.principal_id if i else None)
    grant(ctx, "aks-network", client.subscription_id, NETWORK_CONTRIBUTOR, net.vnet.id, cluster_principal)

    k8s_provider = k8s.Provider(
        f"{name}-aks",
        kubeconfig=aks_unit.kubeconfig,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(depends_on=[deployer_admin]),
    )
    gateway = GatewayComponent(
        f"{name}-gateway",
        env,
        GatewayArgs(
            config_source=config_uri,
            secret_store=SecretStore(
                provider="azure",
                objects={var: names[var] for var in names},
                parameters={"keyvaultName": vault.name, "tenantId": client.tenant_id, "clientID": identity.client_id},
            ),
            extra_secret_env=managed,
            service_account_annotations={"azure.workload.identity/client-id": identity.client_id},
            pod_labels={"azure.workload.identity/use": "true"},
            exporter=CollectorExporter.azuremonitor(APPINSIGHTS_ENV),
            config_files={DATABASE_CA_FILE: azure_postgres_ca_bundle()} if DATABASE_URL_ENV in generated else {},
        ),
        provider=k8s_provider,
    )
    return {
        "resource_group": group.name,
        "cluster": cluster.name,
        "key_vault": vault.name,
        "config_uri": config_uri,
        "namespace": gateway.namespace,
        "service": gateway.service_name,
    }
