"""The one-shot migrations task (LiteLLM's Prisma migrations, run as the database admin user) and the custom resource
that runs it to completion before the gateway service rolls out."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from cdk.architecture import migrations_platform
from cdk.gateway_task import writable_volumes
from cdk.policy import skip_checkov, suppress_nag
from cdk.props import GatewayWorkload
from cdk.shared import log_group

HANDLER_DIR = Path(__file__).parent / "handlers" / "run_migrations"
CONTAINER = "migrations"


class Migrations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workload: GatewayWorkload,
        cluster: ecs.ICluster,
        image: ecs.ContainerImage,
        database_environment: dict[str, str],
        admin_secret: sm.ISecret,
        subnets: list[str],
        security_group: ec2.ISecurityGroup,
        task_logs: logs.ILogGroup,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        # `gatekit migrate` through the image's own entrypoint (tini -- gatekit): LiteLLM's schema migrations with
        # prisma-compatible bookkeeping, then exit. (The image has no LiteLLM config file for the `litellm` CLI.)
        spec = workload.migrations_container
        volumes = writable_volumes(spec)
        self.definition = ecs.FargateTaskDefinition(
            self, "Definition", cpu=512, memory_limit_mib=1024, runtime_platform=migrations_platform(workload.compute)
        )
        for name in volumes:
            self.definition.add_volume(name=name)
        container = self.definition.add_container(
            CONTAINER,
            image=image,
            command=list(spec.args),
            essential=True,
            user=spec.user,
            readonly_root_filesystem=True,
            environment={**database_environment, "HOME": "/tmp"},
            secrets={
                "DATABASE_USERNAME": ecs.Secret.from_secrets_manager(admin_secret, "username"),
                "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(admin_secret, "password"),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix="migrations", log_group=task_logs),
        )
        suppress_nag(
            self.definition,
            "AwsSolutions-ECS2",
            "Only where the database is (host, port, name, TLS mode); the credentials come through ECS `secrets`.",
        )
        container.add_mount_points(
            *(
                ecs.MountPoint(source_volume=name, container_path=path, read_only=False)
                for name, path in volumes.items()
            )
        )

        runner = lambda_.Function(
            self,
            "Runner",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(HANDLER_DIR)),
            timeout=Duration.minutes(15),
            memory_size=256,
            description=f"{workload.basics.prefix}: run the database migrations task before the gateway rolls out",
            log_group=log_group(self, "RunnerLogs", workload.basics, logs_key),
        )
        runner.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[self.definition.task_definition_arn],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        runner.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"],
                resources=["*"],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        runner.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.definition.task_role.role_arn, self.definition.obtain_execution_role().role_arn],
            )
        )
        self._exemptions(runner)
        execution_policy = self.definition.obtain_execution_role().node.try_find_child("DefaultPolicy")
        assert execution_policy is not None
        suppress_nag(
            execution_policy,
            "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken has no resource-level permissions (Resource *); image pulls are limited to the "
            "gateway repository.",
        )
        self.run = CustomResource(
            self,
            "Run",
            service_token=runner.function_arn,
            resource_type="Custom::GatekitMigrations",
            properties={
                "Cluster": cluster.cluster_arn,
                "TaskDefinition": self.definition.task_definition_arn,
                "Container": CONTAINER,
                "Subnets": subnets,
                "SecurityGroups": [security_group.security_group_id],
                "AssignPublicIp": "ENABLED" if workload.network_mode == "public" else "DISABLED",
            },
        )

    def _exemptions(self, runner: lambda_.Function) -> None:
        policy = runner.role.node.try_find_child("DefaultPolicy") if runner.role else None
        assert policy is not None and runner.role is not None
        suppress_nag(
            policy,
            "AwsSolutions-IAM5",
            "ecs:DescribeTasks takes task ARNs that exist only after RunTask; it is limited to this cluster by the "
            "ecs:cluster condition.",
        )
        suppress_nag(
            runner.role,
            "AwsSolutions-IAM4",
            "AWSLambdaBasicExecutionRole only allows writing the function's own logs.",
        )
        reason_vpc = (
            "The runner only calls the ECS API and CloudFormation's pre-signed URL; it handles no data and needs no "
            "VPC (the migrations task itself runs in the VPC)."
        )
        skip_checkov(runner, "CKV_AWS_117", reason_vpc)
        skip_checkov(
            runner, "CKV_AWS_116", "Invoked synchronously by CloudFormation, which records failures; no DLQ applies."
        )
        skip_checkov(runner, "CKV_AWS_115", "Runs once per deploy; reserved concurrency would only add a failure mode.")
        skip_checkov(runner, "CKV_AWS_173", "Its environment holds no variables (no secrets to encrypt).")
