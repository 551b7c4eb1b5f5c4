"""ElastiCache (Valkey or Redis OSS) for LiteLLM's cache, rate limits and router state: TLS required in transit, AUTH
token from Secrets Manager, KMS encryption at rest, automatic multi-AZ failover when replicas are configured."""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from cdk.network_stack import CACHE_PORT
from cdk.policy import suppress_nag
from cdk.props import Basics, CacheEndpoint
from gatekit.config.environment import Cache as CacheConfig

ENGINE_VERSION = {"valkey": "8.0", "redis": "7.1"}
PARAMETER_GROUP = {"valkey": "default.valkey8", "redis": "default.redis7"}


class Cache(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: CacheConfig,
        basics: Basics,
        environment_name: str,
        backup_retention_days: int,
        subnet_ids: list[str],
        security_group: ec2.ISecurityGroup,
        key: kms.IKey,
        slow_log: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = basics.prefix
        cache = config
        self.auth_secret = sm.Secret(
            self,
            "AuthToken",
            secret_name=self.auth_secret_name(basics.prefix),
            description=f"{basics.prefix}: ElastiCache AUTH token",
            encryption_key=key,
            generate_secret_string=sm.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=basics.removal,
        )
        suppress_nag(
            self.auth_secret,
            "AwsSolutions-SMG4",
            "ElastiCache AUTH tokens rotate through ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE), which "
            "has no Secrets Manager rotation Lambda; rotation is a runbook step.",
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self, "Subnets", description=f"{basics.prefix} cache subnets", subnet_ids=subnet_ids
        )
        failover = cache.replicas_per_shard > 0
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_description=f"{basics.prefix} gateway cache",
            engine=cache.engine,
            engine_version=ENGINE_VERSION[cache.engine],
            cache_parameter_group_name=PARAMETER_GROUP[cache.engine],
            cache_node_type=cache.node_type,
            num_node_groups=1,
            replicas_per_node_group=cache.replicas_per_shard,
            automatic_failover_enabled=failover,
            multi_az_enabled=failover and cache.multi_az,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[security_group.security_group_id],
            port=CACHE_PORT,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            kms_key_id=key.key_arn,
            auth_token=self.auth_secret.secret_value.unsafe_unwrap(),
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=backup_retention_days if failover else 1,
            preferred_maintenance_window="sun:05:30-sun:06:30",
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=slow_log.log_group_name
                        )
                    ),
                )
            ],
        )

        if not (failover and cache.multi_az):
            suppress_nag(
                self.replication_group,
                "AwsSolutions-AEC4",
                f"`{environment_name}` configures a single-AZ cache (cache.multi_az / replicas_per_shard): it holds "
                "only recomputable cache and rate-limit state.",
            )

    @staticmethod
    def auth_secret_name(prefix: str) -> str:
        """Fixed name: the gateway stack imports it by name, not through a cross-stack export."""
        return f"{prefix}/cache-auth-token"

    @property
    def auth_secret_locator(self) -> str:
        """How the gateway stacks name the AUTH token secret (its fixed name: no cross-stack export)."""
        return self.auth_secret_name(self.prefix)

    @property
    def endpoint(self) -> CacheEndpoint:
        return CacheEndpoint(
            host=self.host,
            port=self.port,
            auth_secret_locator=self.auth_secret_locator,
            secret_key_arns=tuple(self.secret_key_arns),
            primary_node_id=self.primary_node_id,
            created=True,
        )

    @property
    def port(self) -> int:
        return CACHE_PORT

    @property
    def secret_key_arns(self) -> list[str]:
        return []  # the AUTH token secret is encrypted with the data stack's key

    @property
    def host(self) -> str:
        return self.replication_group.attr_primary_end_point_address

    @property
    def primary_node_id(self) -> str:
        """The CacheClusterId of the first node (CloudWatch's per-node dimension)."""
        return Fn.join("-", [self.replication_group.ref, "001"])
