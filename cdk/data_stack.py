"""Data: Aurora PostgreSQL Serverless v2 and ElastiCache, encrypted with this stack's customer-managed key."""

from __future__ import annotations

from typing import Unpack

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from cdk.cache import Cache
from cdk.database import Database
from cdk.existing_data import ExistingCacheStore, ExistingDatabase
from cdk.network_stack import NetworkStack
from cdk.shared import StackOptions, encryption_key, log_group
from gatekit.config import Environment


class DataStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_config: Environment,
        network: NetworkStack,
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = encryption_key(self, "DataKey", env_config, "database, cache and their credentials", for_logs=True)
        self.database: Database | ExistingDatabase | None = None
        self.cache: Cache | ExistingCacheStore | None = None
        groups = network.security_groups
        runtime_migrates = env_config.target == "aws-eks"
        if env_config.database.enabled and env_config.database.existing is not None:  # estate (issue 18)
            self.database = ExistingDatabase(
                self, "ExistingDatabase", env=env_config, runtime_migrates=runtime_migrates
            )
        elif env_config.database.enabled and env_config.database.url is None:
            self.database = Database(
                self,
                "Database",
                env=env_config,
                vpc=network.vpc,
                subnets=network.data_subnets,
                security_group=groups.database,
                key=self.key,
                runtime_migrates=runtime_migrates,
            )
            CfnOutput(self, "DatabaseEndpoint", value=self.database.cluster.cluster_endpoint.hostname)
            CfnOutput(self, "DatabaseAdminSecretArn", value=self.database.master_secret_arn)
        if env_config.cache.enabled and env_config.cache.existing is not None:  # estate (issue 18)
            self.cache = ExistingCacheStore(self, "ExistingCache", env=env_config)
        elif env_config.cache.enabled and env_config.cache.url is None:
            subnet_ids = network.vpc.select_subnets(subnet_group_name=network.data_subnets.subnet_group_name).subnet_ids
            self.cache = Cache(
                self,
                "Cache",
                env_config=env_config,
                subnet_ids=subnet_ids,
                security_group=groups.cache,
                key=self.key,
                slow_log=log_group(self, "CacheSlowLog", env_config, self.key),
            )
            CfnOutput(self, "CacheEndpoint", value=self.cache.host)
        if (env_config.database.existing or env_config.cache.existing) and env_config.target != "aws-eks":
            # ECS tasks' group, which an estate admits itself when it gives gatekit no security groups (docs/aws.md).
            CfnOutput(self, "GatewaySecurityGroupId", value=groups.service.security_group_id)
