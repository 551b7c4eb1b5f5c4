"""Existing data stores (config `database.existing`, `cache.existing`): an Aurora PostgreSQL cluster and an ElastiCache
replication group the estate already runs, imported from literal identifiers, endpoints and secret ARNs (no lookups).
gatekit creates no cluster, replication group, subnet group or credentials for them: only its runtime role inside the
database (the same SQL as for its own cluster, through the RDS Data API as the given admin user), the IAM grants
scoped to the given secrets and cluster, and security-group rules between the gateway and the given groups."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk.database import grant_connect, runtime_user_resource
from cdk.props import CacheEndpoint, DatabaseEndpoint
from gatekit.config.estate_existing import ExistingAurora, ExistingCache


class ExistingDatabase(Construct):
    """The same surface the gateway stacks use of a created `Database`: host, port, the admin secret, the runtime
    role's custom resource, `grant_connect_runtime`, and `cluster` for CloudWatch metrics."""

    def __init__(
        self, scope: Construct, construct_id: str, *, existing: ExistingAurora, runtime_migrates: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.existing = existing
        self.cluster = rds.DatabaseCluster.from_database_cluster_attributes(
            self,
            "Cluster",
            cluster_identifier=existing.cluster_identifier,
            cluster_endpoint_address=existing.endpoint,
            cluster_resource_identifier=existing.cluster_resource_id,
            port=existing.port,
        )
        self.cluster_arn = Stack.of(self).format_arn(
            service="rds",
            resource="cluster",
            resource_name=existing.cluster_identifier,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.runtime_user: cr.AwsCustomResource = runtime_user_resource(
            self,
            cluster_arn=self.cluster_arn,
            secret_arn=existing.admin_secret_arn,
            key_arns=self.secret_key_arns,
            database=existing.database_name,
            runtime_migrates=runtime_migrates,
        )

    @property
    def endpoint(self) -> DatabaseEndpoint:
        return DatabaseEndpoint(
            host=self.host,
            port=self.port,
            database_name=self.database_name,
            admin_secret_arn=self.master_secret_arn,
            secret_key_arns=tuple(self.secret_key_arns),
            runtime_user=self.runtime_user,
            grant_connect=self.grant_connect_runtime,
            cluster=self.cluster,
            created=False,
        )

    @property
    def host(self) -> str:
        return self.existing.endpoint

    @property
    def port(self) -> int:
        return self.existing.port

    @property
    def database_name(self) -> str:
        return self.existing.database_name

    @property
    def master_secret_arn(self) -> str:
        return self.existing.admin_secret_arn

    @property
    def secret_key_arns(self) -> list[str]:
        return [self.existing.secret_kms_key_arn] if self.existing.secret_kms_key_arn else []

    def grant_connect_runtime(self, grantee: iam.IGrantable) -> None:
        """rds-db:connect as the runtime user of this cluster only (IAM database authentication)."""
        grant_connect(self, grantee, self.existing.cluster_resource_id)


class ExistingCacheStore(Construct):
    """The surface the gateway stacks use of a created `Cache`: host, port, the AUTH token secret, the node id."""

    def __init__(self, scope: Construct, construct_id: str, *, existing: ExistingCache) -> None:
        super().__init__(scope, construct_id)
        self.existing = existing

    @property
    def host(self) -> str:
        return self.existing.endpoint

    @property
    def port(self) -> int:
        return self.existing.port

    @property
    def endpoint(self) -> CacheEndpoint:
        return CacheEndpoint(
            host=self.host,
            port=self.port,
            auth_secret_locator=self.auth_secret_locator,
            secret_key_arns=tuple(self.secret_key_arns),
            primary_node_id=self.primary_node_id,
            created=False,
        )

    @property
    def auth_secret_locator(self) -> str:
        return self.existing.auth_token_secret_arn

    @property
    def secret_key_arns(self) -> list[str]:
        return [self.existing.secret_kms_key_arn] if self.existing.secret_kms_key_arn else []

    @property
    def primary_node_id(self) -> str:
        """The CacheClusterId of the first node of the (single-shard) group, as ElastiCache names it."""
        return f"{self.existing.replication_group_id}-001"


def grant_existing_secret_keys(role: iam.IRole, stores: Sequence[DatabaseEndpoint | CacheEndpoint | None]) -> None:
    """kms:Decrypt through Secrets Manager on the customer-managed keys of existing stores' secrets (if any)."""
    arns = sorted({arn for store in stores if store is not None for arn in store.secret_key_arns})
    if not arns:
        return
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=arns,
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{Stack.of(role).region}.amazonaws.com"}},
        )
    )
