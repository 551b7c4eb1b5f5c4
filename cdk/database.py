"""Aurora PostgreSQL Serverless v2 for LiteLLM (virtual keys, spend): KMS encryption, TLS enforced, RDS-managed
master secret (rotated by RDS, no Lambda), IAM authentication for the runtime user, backups with point-in-time
recovery, deletion protection and snapshot-on-delete outside dev."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk.network_stack import DB_PORT
from cdk.policy import skip_checkov, suppress_nag
from cdk.props import Basics, DatabaseEndpoint
from cdk.shared import as_interface, retention
from gatekit.config.environment import Database as DatabaseConfig

DATABASE_NAME = "litellm"
ADMIN_USER = "gatekit_admin"
# The gateway connects as this user with an IAM token (rds-db:connect); it never holds a password.
RUNTIME_USER = "litellm_runtime"

# Idempotent: creates the IAM-authenticated runtime role and lets it use every table the migrations (run as the admin
# user) create, now and later: views included. LiteLLM creates its spend views at start when they are missing, which
# the runtime user may not (no CREATE on the schema, PostgreSQL 15+ default); the migrations task (`gatekit migrate`,
# as the admin user) creates them first, so the runtime user only reads them.
RUNTIME_USER_SQL = f"""DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{RUNTIME_USER}') THEN
    CREATE ROLE {RUNTIME_USER} LOGIN;
  END IF;
  GRANT rds_iam TO {RUNTIME_USER};
  GRANT USAGE ON SCHEMA public TO {RUNTIME_USER};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {RUNTIME_USER};
  GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {RUNTIME_USER};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {RUNTIME_USER};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {RUNTIME_USER};
END $$;"""

# aws-eks: migrations run as the gateway pod's first init container with the pod's identity (the runtime user), so that
# user may create in the schema there (tables, and the views it then owns).
RUNTIME_MIGRATES_SQL = f"GRANT CREATE ON SCHEMA public TO {RUNTIME_USER};"


def _engine(version: str) -> rds.IClusterEngine:
    major = version.split(".")[0]
    return rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.of(version, major))


def grant_connect(
    scope: Construct, grantee: iam.IGrantable, cluster_resource_id: str, user: str = RUNTIME_USER
) -> None:
    """rds-db:connect as `user` of one cluster only (IAM database authentication): a created or an existing one."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["rds-db:connect"],
            resources=[
                Stack.of(scope).format_arn(
                    service="rds-db",
                    resource="dbuser",
                    resource_name=f"{cluster_resource_id}/{user}",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DatabaseConfig,
        basics: Basics,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        key: kms.IKey,
        runtime_migrates: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.runtime_migrates = runtime_migrates
        db = config
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=_engine(db.engine_version),
            description=f"{basics.prefix}: TLS only, connection logging",
            parameters={"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"},
        )
        # Protected data (deletion_protection on: staging, prod, moat) gets a reader in a second AZ to fail over to;
        # disposable data (dev) runs the writer alone.
        readers = (
            [rds.ClusterInstance.serverless_v2("Reader", scale_with_writer=True)] if db.deletion_protection else []
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=_engine(db.engine_version),
            writer=rds.ClusterInstance.serverless_v2("Writer", auto_minor_version_upgrade=True),
            readers=readers,
            serverless_v2_min_capacity=db.min_capacity_acu,
            serverless_v2_max_capacity=db.max_capacity_acu,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            parameter_group=parameters,
            default_database_name=DATABASE_NAME,
            manage_master_user_password=True,
            credentials=rds.Credentials.from_username(ADMIN_USER, encryption_key=key),
            storage_encrypted=True,
            storage_encryption_key=key,
            iam_authentication=True,
            enable_data_api=True,
            backup=rds.BackupProps(retention=Duration.days(db.backup_retention_days), preferred_window="03:00-04:00"),
            preferred_maintenance_window="sun:04:30-sun:05:30",
            deletion_protection=db.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT if db.deletion_protection else RemovalPolicy.DESTROY,
            cloudwatch_logs_exports=["postgresql"],
            cloudwatch_logs_retention=retention(basics.log_retention_days),
            enable_performance_insights=True,
            performance_insight_encryption_key=key,
            copy_tags_to_snapshot=True,
            monitoring_interval=Duration.seconds(60),
        )
        self.cluster_deletion_protection = db.deletion_protection
        self._exemptions()
        self.runtime_user = self._runtime_user()

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
            cluster=as_interface(self.cluster, rds.IDatabaseCluster),
            created=True,
        )

    @property
    def master_secret_arn(self) -> str:
        assert self.cluster.secret is not None
        return self.cluster.secret.secret_arn

    def grant_connect_runtime(self, grantee: iam.IGrantable) -> None:
        """rds-db:connect as the runtime user only (IAM database authentication)."""
        grant_connect(self, grantee, self.cluster.cluster_resource_identifier)

    def _exemptions(self) -> None:
        cluster = self.cluster.node.default_child
        assert cluster is not None
        if not self.cluster_deletion_protection:
            suppress_nag(
                cluster,
                "AwsSolutions-RDS10",
                "This environment's data is disposable (database.deletion_protection: false, e.g. dev).",
            )
        monitoring_role = self.cluster.node.try_find_child("MonitoringRole")
        assert monitoring_role is not None
        suppress_nag(
            monitoring_role,
            "AwsSolutions-IAM4",
            "AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS needs to publish enhanced monitoring.",
        )
        suppress_nag(
            cluster,
            "AwsSolutions-RDS11",
            "5432 is the PostgreSQL port every client expects; the cluster is reachable only from the gateway "
            "security group in isolated subnets.",
        )
        skip_checkov(
            cluster,
            "CKV_AWS_327",
            "Encrypted with the data stack's customer-managed key (StorageEncrypted + KmsKeyId); the check does "
            "not resolve the key reference.",
        )

    def _runtime_user(self) -> cr.AwsCustomResource:
        resource = runtime_user_resource(
            self,
            cluster_arn=self.cluster.cluster_arn,
            secret_arn=self.master_secret_arn,
            key_arns=[self.key.key_arn],
            database=DATABASE_NAME,
            runtime_migrates=self.runtime_migrates,
        )
        resource.node.add_dependency(self.cluster)
        return resource

    @property
    def host(self) -> str:
        return self.cluster.cluster_endpoint.hostname

    @property
    def port(self) -> int:
        return DB_PORT

    @property
    def database_name(self) -> str:
        return DATABASE_NAME

    @property
    def secret_key_arns(self) -> list[str]:
        """Keys of the admin secret beyond the data stack's own (none: RDS encrypts it with the data key)."""
        return []


def runtime_user_sql(runtime_migrates: bool) -> str:
    if runtime_migrates:
        return RUNTIME_USER_SQL.replace("END $$;", f"  {RUNTIME_MIGRATES_SQL}\nEND $$;")
    return RUNTIME_USER_SQL


def runtime_user_resource(
    scope: Construct,
    *,
    cluster_arn: str,
    secret_arn: str,
    key_arns: list[str],
    database: str,
    runtime_migrates: bool,
) -> cr.AwsCustomResource:
    """Creates the IAM-authenticated runtime role through the RDS Data API (no network path needed), as the admin user
    of `secret_arn` (whose value is encrypted with one of `key_arns`, or the account's default key)."""
    call = cr.AwsSdkCall(
        service="rds-data",
        action="ExecuteStatement",
        parameters={
            "resourceArn": cluster_arn,
            "secretArn": secret_arn,
            "database": database,
            "sql": runtime_user_sql(runtime_migrates),
        },
        physical_resource_id=cr.PhysicalResourceId.of(f"runtime-user-{RUNTIME_USER}"),
    )
    statements = [
        iam.PolicyStatement(actions=["rds-data:ExecuteStatement"], resources=[cluster_arn]),
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret_arn]),
    ]
    if key_arns:
        # The admin secret is encrypted with a customer-managed key: reading it needs the key too.
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=key_arns,
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{Stack.of(scope).region}.amazonaws.com"}
                },
            )
        )
    return cr.AwsCustomResource(
        scope,
        "RuntimeUser",
        on_create=call,
        on_update=call,
        policy=cr.AwsCustomResourcePolicy.from_statements(statements),
        install_latest_aws_sdk=False,
        timeout=Duration.minutes(5),
    )
