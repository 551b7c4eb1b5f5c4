"""Data: Aurora PostgreSQL Serverless v2 and ElastiCache, encrypted with this stack's customer-managed key."""

from __future__ import annotations

from typing import Unpack

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from cdk.cache import Cache
from cdk.database import Database
from cdk.existing_data import ExistingCacheStore, ExistingDatabase
from cdk.props import CacheEndpoint, DatabaseEndpoint, DataProps
from cdk.shared import StackOptions, encryption_key, log_group


class DataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: DataProps, **kwargs: Unpack[StackOptions]
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        basics = props.basics
        self.key = encryption_key(self, "DataKey", basics, "database, cache and their credentials", for_logs=True)
        self.database: Database | ExistingDatabase | None = None
        self.cache: Cache | ExistingCacheStore | None = None
        groups = props.security_groups
        db, cache = props.database, props.cache
        if db.enabled and db.existing is not None:  # estate (issue 18)
            self.database = ExistingDatabase(
                self, "ExistingDatabase", existing=db.existing, runtime_migrates=props.runtime_migrates
            )
        elif db.enabled and db.url is None:
            self.database = Database(
                self,
                "Database",
                config=db,
                basics=basics,
                vpc=props.vpc,
                subnets=props.data_subnets,
                security_group=groups.database,
                key=self.key,
                runtime_migrates=props.runtime_migrates,
            )
            CfnOutput(self, "DatabaseEndpoint", value=self.database.cluster.cluster_endpoint.hostname)
            CfnOutput(self, "DatabaseAdminSecretArn", value=self.database.master_secret_arn)
        if cache.enabled and cache.existing is not None:  # estate (issue 18)
            self.cache = ExistingCacheStore(self, "ExistingCache", existing=cache.existing)
        elif cache.enabled and cache.url is None:
            subnet_ids = props.vpc.select_subnets(subnet_group_name=props.data_subnets.subnet_group_name).subnet_ids
            self.cache = Cache(
                self,
                "Cache",
                config=cache,
                basics=basics,
                environment_name=props.environment_name,
                backup_retention_days=db.backup_retention_days,
                subnet_ids=subnet_ids,
                security_group=groups.cache,
                key=self.key,
                slow_log=log_group(self, "CacheSlowLog", basics, self.key),
            )
            CfnOutput(self, "CacheEndpoint", value=self.cache.host)
        if props.output_service_group:
            # ECS tasks' group, which an estate admits itself when it gives gatekit no security groups (docs/aws.md).
            CfnOutput(self, "GatewaySecurityGroupId", value=groups.service.security_group_id)

    @property
    def database_endpoint(self) -> DatabaseEndpoint | None:
        return self.database.endpoint if self.database is not None else None

    @property
    def cache_endpoint(self) -> CacheEndpoint | None:
        return self.cache.endpoint if self.cache is not None else None
