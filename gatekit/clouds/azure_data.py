"""Azure data services: PostgreSQL Flexible Server (VNet-integrated), Azure Cache for Redis (TLS only, private
endpoint), the config Blob container, Key Vault with the secrets the deployment generates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure
import pulumi_random as random

from gatekit.clouds.common import CONFIG_CONTENT_TYPE, CONFIG_OBJECT, Ctx, Unit
from gatekit.clouds.database_tls import verified_postgres_url
from gatekit.clouds.private_access import private_link
from gatekit.config.environment import Cache, Database

DB_NAME = "litellm"
DB_ADMIN = "gatekit"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"


def invoke_opts(ctx: Ctx) -> pulumi.InvokeOutputOptions:
    """Invokes go through the stack's explicit provider (subscription, location), never the default one."""
    return pulumi.InvokeOutputOptions(provider=ctx.opts.provider)


@dataclass
class Net:
    group: azure.resources.ResourceGroup
    vnet: azure.network.VirtualNetwork
    aks_subnet: pulumi.Output[str]
    db_subnet: pulumi.Output[str]
    endpoint_subnet: pulumi.Output[str]


def postgres_sku(max_acu: float, production: bool) -> azure.dbforpostgresql.SkuArgsDict:
    """Burstable for small non-production databases; otherwise General Purpose with ~2 GiB per ACU."""
    if not production and max_acu <= 2:
        return {"name": "Standard_B2s", "tier": azure.dbforpostgresql.SkuTier.BURSTABLE}
    want = max(2, math.ceil(max_acu / 2))
    vcores = next(v for v in (2, 4, 8, 16, 32, 48, 64) if v >= min(want, 64))
    return {"name": f"Standard_D{vcores}ds_v5", "tier": azure.dbforpostgresql.SkuTier.GENERAL_PURPOSE}


def private_zone(
    ctx: Ctx, net: Net, zone: str, key: str
) -> tuple[azure.privatedns.PrivateZone, azure.privatedns.VirtualNetworkLink]:
    dns = azure.privatedns.PrivateZone(
        f"{ctx.name}-{key}-dns",
        resource_group_name=net.group.name,
        private_zone_name=zone,
        location="global",
        tags=ctx.labels,
        opts=ctx.opts,
    )
    link = azure.privatedns.VirtualNetworkLink(
        f"{ctx.name}-{key}-dns-link",
        resource_group_name=net.group.name,
        private_zone_name=dns.name,
        location="global",
        virtual_network={"id": net.vnet.id},
        registration_enabled=False,
        tags=ctx.labels,
        opts=ctx.opts,
    )
    return dns, link


@dataclass(frozen=True)
class AzureDatabaseArgs:
    database: Database
    zone_prefix: str  # the deployment prefix: `<prefix>.private.postgres.database.azure.com`
    net: Net


class AzureDatabase(Unit):
    """PostgreSQL Flexible Server in the VNet. `url`: DATABASE_URL (a Pulumi secret, verify-full)."""

    def __init__(self, ctx: Ctx, args: AzureDatabaseArgs) -> None:
        super().__init__("azure:Database", ctx, "database")
        self.url = postgres(self.ctx, args)
        self.register_outputs({})


def postgres(ctx: Ctx, args: AzureDatabaseArgs) -> pulumi.Output[str]:
    """VNet-integrated Flexible Server, no public access, TLS enforced, backups; protected and locked in prod.
    Returns DATABASE_URL as a Pulumi secret."""
    name, db, net = ctx.name, args.database, args.net
    # The server resolves its own name through the zone linked to the VNet: create it after the link.
    dns, link = private_zone(ctx, net, f"{args.zone_prefix}.private.postgres.database.azure.com", "postgres")
    password = random.RandomPassword(f"{name}-db-password", length=40, special=False, opts=ctx.opts)
    server = azure.dbforpostgresql.Server(
        f"{name}-postgres",
        resource_group_name=net.group.name,
        version=db.engine_version.split(".")[0],
        sku=postgres_sku(db.max_capacity_acu, db.deletion_protection),
        storage={"storage_size_gb": 64, "auto_grow": "Enabled"},
        backup={
            "backup_retention_days": db.backup_retention_days,
            "geo_redundant_backup": "Enabled" if db.deletion_protection else "Disabled",
        },
        high_availability={"mode": "ZoneRedundant" if db.deletion_protection else "Disabled"},
        network={
            "delegated_subnet_resource_id": net.db_subnet,
            "private_dns_zone_arm_resource_id": dns.id,
            "public_network_access": "Disabled",
        },
        data_encryption={"type": "SystemManaged"},
        auth_config={"password_auth": "Enabled", "active_directory_auth": "Disabled"},
        administrator_login=DB_ADMIN,
        administrator_login_password=pulumi.Output.secret(password.result),
        tags=ctx.labels,
        opts=pulumi.ResourceOptions.merge(ctx.after(dns, link), pulumi.ResourceOptions(protect=db.deletion_protection)),
    )
    azure.dbforpostgresql.Configuration(
        f"{name}-postgres-tls",
        resource_group_name=net.group.name,
        server_name=server.name,
        configuration_name="require_secure_transport",
        value="on",
        source="user-override",
        opts=ctx.opts,
    )
    azure.dbforpostgresql.Database(
        f"{name}-db", resource_group_name=net.group.name, server_name=server.name, database_name=DB_NAME, opts=ctx.opts
    )
    if db.deletion_protection:
        azure.authorization.ManagementLockByScope(
            f"{name}-postgres-lock",
            scope=server.id,
            level="CanNotDelete",
            notes="gatekit: deletion protection",
            opts=ctx.opts,
        )
    # verify-full against Azure's roots (gatekit.clouds.database_tls), by the name the certificate carries.
    return verified_postgres_url(DB_ADMIN, password.result, server.fully_qualified_domain_name, DB_NAME)


@dataclass(frozen=True)
class AzureCacheArgs:
    cache: Cache
    net: Net


class AzureCache(Unit):
    """Azure Cache for Redis behind a private endpoint. `url`: REDIS_URL (a Pulumi secret)."""

    def __init__(self, ctx: Ctx, args: AzureCacheArgs) -> None:
        super().__init__("azure:Cache", ctx, "cache")
        self.url = redis(self.ctx, args)
        self.register_outputs({})


def redis(ctx: Ctx, args: AzureCacheArgs) -> pulumi.Output[str]:
    """Azure Cache for Redis on TLS 1.2 only, reachable through a private endpoint. Returns REDIS_URL (secret)."""
    cache, net = args.cache, args.net
    name = ctx.name
    instance = azure.redis.Redis(
        f"{name}-redis",
        resource_group_name=net.group.name,
        sku={"name": "Standard" if cache.multi_az else "Basic", "family": "C", "capacity": 1},
        enable_non_ssl_port=False,
        minimum_tls_version="1.2",
        public_network_access="Disabled",
        redis_version="6",
        tags=ctx.labels,
        opts=ctx.opts,
    )
    dns, _ = private_zone(ctx, net, "privatelink.redis.cache.windows.net", "redis")
    endpoint = azure.network.PrivateEndpoint(
        f"{name}-redis-endpoint",
        resource_group_name=net.group.name,
        subnet={"id": net.endpoint_subnet},
        private_link_service_connections=[
            {"name": "redis", "private_link_service_id": instance.id, "group_ids": ["redisCache"]}
        ],
        tags=ctx.labels,
        opts=ctx.opts,
    )
    azure.network.PrivateDnsZoneGroup(
        f"{name}-redis-dns-group",
        resource_group_name=net.group.name,
        private_endpoint_name=endpoint.name,
        private_dns_zone_configs=[{"name": "redis", "private_dns_zone_id": dns.id}],
        opts=ctx.opts,
    )
    keys = azure.redis.list_redis_keys_output(
        name=instance.name, resource_group_name=net.group.name, opts=invoke_opts(ctx)
    )
    return pulumi.Output.secret(
        pulumi.Output.concat("rediss://:", keys.primary_key, "@", instance.host_name, ":6380/0?ssl_cert_reqs=required")
    )


@dataclass(frozen=True)
class ConfigStorageArgs:
    document: str  # the synced config document (gatekit.render.sync_document)
    zone_redundant: bool
    public_network_access: str  # gatekit.clouds.private_access.public_access
    firewall: azure.storage.NetworkRuleSetArgsDict
    net: Net


class ConfigStorage(Unit):
    """The config document's storage account and container. `account`, `uri` (https:// of the blob)."""

    def __init__(self, ctx: Ctx, args: ConfigStorageArgs) -> None:
        super().__init__("azure:ConfigStorage", ctx, "config-storage")
        self.account, self.uri = config_storage(self.ctx, args)
        self.register_outputs({"uri": self.uri})


def config_storage(ctx: Ctx, args: ConfigStorageArgs) -> tuple[azure.storage.StorageAccount, pulumi.Output[str]]:
    """Storage account (HTTPS/TLS 1.2 only, no anonymous access, infrastructure encryption) with a versioned
    container holding the synced config document. Returns (account, https:// uri of the config blob)."""
    name, net = ctx.name, args.net
    account = azure.storage.StorageAccount(
        f"{name.replace('-', '')}cfg",
        resource_group_name=net.group.name,
        kind="StorageV2",
        sku={"name": "Standard_ZRS" if args.zone_redundant else "Standard_LRS"},
        enable_https_traffic_only=True,
        # firewall: private endpoint, plus the deployer's networks if any
        public_network_access=args.public_network_access,
        network_rule_set=args.firewall,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        encryption={
            "key_source": "Microsoft.Storage",
            "require_infrastructure_encryption": True,
            "services": {"blob": {"enabled": True, "key_type": "Account"}},
        },
        tags=ctx.labels,
        opts=ctx.opts,
    )
    azure.storage.BlobServiceProperties(
        f"{name}-blob-versioning",
        resource_group_name=net.group.name,
        account_name=account.name,
        blob_services_name="default",
        is_versioning_enabled=True,
        delete_retention_policy={"enabled": True, "days": 30},
        opts=ctx.opts,
    )
    container = azure.storage.BlobContainer(
        f"{name}-config",
        resource_group_name=net.group.name,
        account_name=account.name,
        public_access=azure.storage.PublicAccess.NONE,
        opts=ctx.opts,
    )
    azure.storage.Blob(
        f"{name}-config-object",
        resource_group_name=net.group.name,
        account_name=account.name,
        container_name=container.name,
        blob_name=CONFIG_OBJECT,
        content_type=CONFIG_CONTENT_TYPE,
        source=pulumi.StringAsset(args.document),
        opts=ctx.opts,
    )
    private_link(
        ctx, "blob", group=net.group, vnet=net.vnet, subnet=net.endpoint_subnet, target=account.id,
        group_id="blob", zone="privatelink.blob.core.windows.net",
    )  # fmt: skip
    uri = pulumi.Output.concat(account.primary_endpoints.blob, container.name, f"/{CONFIG_OBJECT}")
    return account, uri


@dataclass(frozen=True)
class KeyVaultArgs:
    tenant_id: pulumi.Input[str]
    names: dict[str, str]  # env var -> secret name in the vault
    values: dict[str, pulumi.Output[str]]  # env var -> value (Pulumi secrets)
    protect: bool  # purge protection and 90-day soft delete
    public_network_access: str  # gatekit.clouds.private_access.public_access
    firewall: azure.keyvault.NetworkRuleSetArgsDict
    net: Net


class KeyVault(Unit):
    """The Key Vault the gateway's secrets live in. `vault`."""

    def __init__(self, ctx: Ctx, args: KeyVaultArgs) -> None:
        super().__init__("azure:KeyVault", ctx, "key-vault")
        self.vault = key_vault(self.ctx, args)
        self.register_outputs({"vault": self.vault.name})


def key_vault(ctx: Ctx, args: KeyVaultArgs) -> azure.keyvault.Vault:
    """RBAC-authorized vault with soft delete (and purge protection in prod) holding every secret the gateway reads:
    values the deployment generates and the operator's `gatekit-secrets:*` stack config, as Pulumi secrets."""
    protect, net, names, values = args.protect, args.net, args.names, args.values
    vault = azure.keyvault.Vault(
        f"{ctx.name}-kv",
        resource_group_name=net.group.name,
        properties={
            "tenant_id": args.tenant_id,
            "sku": {"family": azure.keyvault.SkuFamily.A, "name": azure.keyvault.SkuName.STANDARD},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 90 if protect else 7,
            "enable_purge_protection": True if protect else None,
            # firewall: private endpoint, plus the deployer's networks if any
            "public_network_access": args.public_network_access,
            "network_acls": args.firewall,
        },
        tags=ctx.labels,
        opts=ctx.opts,
    )
    private_link(
        ctx, "kv", group=net.group, vnet=net.vnet, subnet=net.endpoint_subnet, target=vault.id,
        group_id="vault", zone="privatelink.vaultcore.azure.net",
    )  # fmt: skip
    missing = sorted(set(names) - set(values))
    if missing:
        raise pulumi.RunError(f"no value for Key Vault secrets of {', '.join(missing)}")
    for var, value in sorted(values.items()):
        azure.keyvault.Secret(
            f"{ctx.name}-kv-{names[var]}",
            resource_group_name=net.group.name,
            vault_name=vault.name,
            secret_name=names[var],
            properties={"value": pulumi.Output.secret(value)},
            tags=ctx.labels,
            opts=ctx.opts,
        )
    return vault
