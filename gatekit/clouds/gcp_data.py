"""GCP data services: Cloud SQL for PostgreSQL, Memorystore for Redis, the config bucket, Secret Manager."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from gatekit.clouds.common import CONFIG_CONTENT_TYPE, CONFIG_OBJECT, REDIS_URL_ENV, Ctx, Unit
from gatekit.clouds.database_tls import DATABASE_CA_FILE, verified_postgres_url
from gatekit.config.environment import Cache, Database
from gatekit.render.k8s import CONFIG_MOUNT
from gatekit.render.litellm import DATABASE_URL_ENV

REDIS_CA_FILE = "redis-ca.pem"
DB_NAME = "litellm"
DB_USER = "litellm"


@dataclass
class GcpData:
    config_uri: pulumi.Output[str]
    bucket: gcp.storage.Bucket
    managed_secrets: dict[str, pulumi.Output[str]]
    config_files: dict[str, pulumi.Output[str]]


@dataclass(frozen=True)
class GcpDataArgs:
    database: Database
    cache: Cache
    document: str  # the synced config document (gatekit.render.sync_document)
    region: str
    network: gcp.compute.Network
    peering: pulumi.Resource  # private service access: SQL and Redis are created after it


class GcpDataServices(Unit):
    """Cloud SQL and Memorystore (when gatekit manages them) and the config bucket. `data`: what the gateway needs."""

    def __init__(self, ctx: Ctx, args: GcpDataArgs) -> None:
        super().__init__("gcp:DataServices", ctx, "data")
        self.data = data_services(self.ctx, args)
        self.register_outputs({"config_uri": self.data.config_uri})


@dataclass(frozen=True)
class GcpSecretsArgs:
    project: str
    secret_ids: dict[str, str]  # env var -> Secret Manager secret id
    values: dict[str, pulumi.Output[str]]  # env var -> value (Pulumi secrets)
    readers: list[pulumi.Input[str]]  # IAM members granted secretAccessor
    readers_after: tuple[pulumi.Resource, ...] = ()  # what the reader grants wait for (the workload identity pool)


class GcpSecrets(Unit):
    """Secret Manager: one secret and version per variable, readable by the gateway. `versions`: env var -> path."""

    def __init__(self, ctx: Ctx, args: GcpSecretsArgs) -> None:
        super().__init__("gcp:Secrets", ctx, "secrets")
        self.versions = secret_manager(self.ctx, args)
        self.register_outputs({})


def sql_tier(max_acu: float) -> str:
    """A custom machine close to the Aurora ceiling (1 ACU ~ 2 GiB): vCPUs = ceil(max_acu / 2), 3840 MiB each."""
    vcpus = max(1, min(32, math.ceil(max_acu / 2)))
    vcpus += vcpus % 2 if vcpus > 1 else 0  # custom machines need an even vCPU count above one
    return f"db-custom-{vcpus}-{vcpus * 3840}"


def cloud_sql(ctx: Ctx, args: GcpDataArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """Private-IP Cloud SQL with backups and PITR; TLS only; deletion protection from the config (on in prod).
    Returns (DATABASE_URL as a Pulumi secret, verify-full against the instance CA; that CA bundle)."""
    name, opts = ctx.name, ctx.opts
    db, network, peering = args.database, args.network, args.peering
    instance = gcp.sql.DatabaseInstance(
        f"{name}-postgres",
        database_version=f"POSTGRES_{db.engine_version.split('.')[0]}",
        deletion_protection=db.deletion_protection,
        settings={
            # Custom machine tiers exist only in the Enterprise edition; PostgreSQL 16 defaults to Enterprise Plus,
            # which rejects them at create.
            "edition": "ENTERPRISE",
            "tier": sql_tier(db.max_capacity_acu),
            "availability_type": "REGIONAL" if db.deletion_protection else "ZONAL",
            "disk_autoresize": True,
            "deletion_protection_enabled": db.deletion_protection,
            "user_labels": ctx.labels,
            "ip_configuration": {
                "ipv4_enabled": False,
                "private_network": network.id,
                "ssl_mode": "ENCRYPTED_ONLY",
                # A Google-managed CAS CA: server certificates name the instance, so clients verify-full.
                "server_ca_mode": "GOOGLE_MANAGED_CAS_CA",
            },
            "backup_configuration": {
                "enabled": True,
                "point_in_time_recovery_enabled": True,
                "transaction_log_retention_days": min(7, db.backup_retention_days),
                "backup_retention_settings": {"retained_backups": db.backup_retention_days},
            },
            "insights_config": {"query_insights_enabled": True},
        },
        opts=ctx.after(peering),
    )
    gcp.sql.Database(f"{name}-db", instance=instance.name, name=DB_NAME, opts=opts)
    password = random.RandomPassword(f"{name}-db-password", length=40, special=False, opts=opts)
    gcp.sql.User(f"{name}-db-user", instance=instance.name, name=DB_USER, password=password.result, opts=opts)
    url = verified_postgres_url(DB_USER, password.result, instance.private_ip_address, DB_NAME)
    ca = instance.server_ca_certs.apply(lambda certs: "\n".join(c["cert"] for c in certs or []))
    return url, ca


def memorystore(ctx: Ctx, args: GcpDataArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """Memorystore with AUTH and in-transit encryption on the private service network. Returns (REDIS_URL as a
    secret, the server CA certificate the client verifies against).

    Clients reach the instance by IP (private service access has no DNS name) and its server certificate names no
    IP address, so the URL verifies the chain against the instance's own CA (`ssl_cert_reqs=required`,
    `ssl_ca_certs`) and turns off only the hostname comparison (`ssl_check_hostname=false`)."""
    cache, network, peering = args.cache, args.network, args.peering
    instance = gcp.redis.Instance(
        f"{ctx.name}-redis",
        tier="STANDARD_HA" if cache.multi_az else "BASIC",
        memory_size_gb=1 if cache.replicas_per_shard == 0 else 5,
        replica_count=max(1, cache.replicas_per_shard) if cache.multi_az else None,
        read_replicas_mode="READ_REPLICAS_ENABLED" if cache.multi_az and cache.replicas_per_shard else None,
        redis_version="REDIS_7_2",
        auth_enabled=True,
        transit_encryption_mode="SERVER_AUTHENTICATION",
        connect_mode="PRIVATE_SERVICE_ACCESS",
        authorized_network=network.id,
        labels=ctx.labels,
        opts=ctx.after(peering),
    )
    url = pulumi.Output.secret(
        pulumi.Output.concat(
            "rediss://:",
            instance.auth_string,
            "@",
            instance.host,
            ":",
            instance.port.apply(str),
            f"/0?ssl_cert_reqs=required&ssl_check_hostname=false&ssl_ca_certs={CONFIG_MOUNT}/{REDIS_CA_FILE}",
        )
    )
    ca = instance.server_ca_certs.apply(lambda certs: "\n".join(c["cert"] for c in certs or []))
    return url, ca


def config_bucket(ctx: Ctx, args: GcpDataArgs) -> tuple[gcp.storage.Bucket, pulumi.Output[str]]:
    """Versioned, uniform-access, never-public bucket holding the synced document; returns (bucket, gs:// uri)."""
    name, opts = ctx.name, ctx.opts
    bucket = gcp.storage.Bucket(
        f"{name}-config",
        location=args.region.upper(),
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning={"enabled": True},
        force_destroy=not args.database.deletion_protection,
        lifecycle_rules=[{"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 30}}],
        labels=ctx.labels,
        opts=opts,
    )
    gcp.storage.BucketObject(
        f"{name}-config-object",
        bucket=bucket.name,
        name=CONFIG_OBJECT,
        content=args.document,
        content_type=CONFIG_CONTENT_TYPE,
        opts=opts,
    )
    return bucket, pulumi.Output.concat("gs://", bucket.name, f"/{CONFIG_OBJECT}")


def secret_manager(ctx: Ctx, args: GcpSecretsArgs) -> dict[str, str]:
    """One Secret Manager secret per variable, each with a version from `values` (Pulumi secrets: generated ones
    and the operator's `gatekit-secrets:*` stack config), so the first `up` converges. Returns env var -> path."""
    name, opts = ctx.name, ctx.opts
    secret_ids, values, readers = args.secret_ids, args.values, args.readers
    reader_opts = ctx.after(*args.readers_after)
    out: dict[str, str] = {}
    for var, secret_id in sorted(secret_ids.items()):
        secret = gcp.secretmanager.Secret(
            f"{name}-secret-{secret_id}",
            secret_id=secret_id,
            replication={"auto": {}},
            labels=ctx.labels,
            opts=opts,
        )
        if var not in values:
            raise pulumi.RunError(f"no value for secret {var} (Secret Manager `{secret_id}`)")
        gcp.secretmanager.SecretVersion(
            f"{name}-secret-{secret_id}-v", secret=secret.id, secret_data=pulumi.Output.secret(values[var]), opts=opts
        )
        for i, member in enumerate(readers):
            gcp.secretmanager.SecretIamMember(
                f"{name}-secret-{secret_id}-reader-{i}",
                secret_id=secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=member,
                opts=reader_opts,
            )
        out[var] = f"projects/{args.project}/secrets/{secret_id}/versions/latest"
    return out


def data_services(ctx: Ctx, args: GcpDataArgs) -> GcpData:
    bucket, uri = config_bucket(ctx, args)
    secrets: dict[str, pulumi.Output[str]] = {}
    files: dict[str, pulumi.Output[str]] = {}
    if args.database.enabled and args.database.url is None:
        secrets[DATABASE_URL_ENV], files[DATABASE_CA_FILE] = cloud_sql(ctx, args)
    if args.cache.enabled and args.cache.url is None:
        secrets[REDIS_URL_ENV], files[REDIS_CA_FILE] = memorystore(ctx, args)
    return GcpData(config_uri=uri, bucket=bucket, managed_secrets=secrets, config_files=files)
