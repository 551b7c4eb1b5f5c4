"""Gateway on ECS Fargate: cluster, task (gateway + ADOT sidecar), service behind the load balancer with circuit
breaker rollback, autoscaling on CPU and requests per target, drain-derived timings, and migrations that run before
the service rolls out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Unpack

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from cdk.collector import DEPLOYMENT_DIMENSION, IN_FLIGHT_METRIC, METRICS_NAMESPACE
from cdk.config_stack import grant_read_config
from cdk.database import RUNTIME_USER
from cdk.existing_data import grant_existing_secret_keys
from cdk.gateway_task import READINESS_PATH, GatewayTask, TaskInputs
from cdk.images import gateway_image
from cdk.load_balancer import GatewayLoadBalancer
from cdk.migrations import Migrations
from cdk.props import CacheEndpoint, DatabaseEndpoint, GatewayEcsProps, GatewayWorkload, InjectedSecret
from cdk.secrets_stack import SynthError, import_for_task
from cdk.shared import StackOptions
from gatekit.config import Environment
from gatekit.config.database_ca import CaBundleError, read_ca_bundle
from gatekit.render.container import DATABASE_CA_ENV


def database_ca(env: Environment) -> str:
    """The CA certificates of `database.ca_bundle` (PEM) the gateway verifies the database with; a clear SynthError
    when the bundle is missing or wrong."""
    try:
        return read_ca_bundle(env)
    except CaBundleError as exc:
        raise SynthError(f"environment `{env.name}`: {exc}") from None


def database_environment(database: DatabaseEndpoint, ca_bundle: str) -> dict[str, str]:
    """Where the database is and the CA its certificate chains to (`database.ca_bundle`, verify-full: chain and
    name); credentials are never part of it."""
    return {
        "DATABASE_HOST": database.host,
        "DATABASE_PORT": str(database.port),
        "DATABASE_NAME": database.database_name,
        "DATABASE_SSLMODE": "verify-full",
        DATABASE_CA_ENV: ca_bundle,
    }


def grant_decrypt_via_secrets_manager(role: iam.IRole, keys: Sequence[kms.IKey]) -> None:
    """kms:Decrypt on the stacks' keys, only through Secrets Manager (ECS resolving `secrets` at task start)."""
    stack = Stack.of(role)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[key.key_arn for key in keys],
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}},
        )
    )


class GatewayEcsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: GatewayEcsProps,
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.props = props
        workload = props.workload
        database, cache, config = props.database, props.cache, props.config
        timings = workload.timings
        self.cluster = ecs.Cluster(self, "Cluster", vpc=props.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        ecs_secrets = self._task_secrets(props.injected, cache)
        extra_env: dict[str, str] = {"AWS_REGION_NAME": self.region}
        if database is not None:
            extra_env.update(database_environment(database, self._database_ca()))
            extra_env.update(
                {"IAM_TOKEN_DB_AUTH": "True", "DATABASE_USER": RUNTIME_USER, "DISABLE_SCHEMA_UPDATE": "True"}
            )
        if cache is not None:
            extra_env.update({"REDIS_HOST": cache.host, "REDIS_PORT": str(cache.port)})
        self.task = GatewayTask(
            self,
            "Task",
            workload=workload,
            inputs=TaskInputs(
                repository=config.repository,
                config_uri=config.config_uri,
                secrets=ecs_secrets,
                extra_environment=extra_env,
                gateway_logs=props.logs.gateway,
                collector_logs=props.logs.collector,
                ssm_reachable=workload.ssm_reachable,
            ),
        )
        task_role = self.task.definition.task_role
        grant_decrypt_via_secrets_manager(
            self.task.definition.obtain_execution_role(), [props.secrets_key, props.data_key]
        )
        grant_existing_secret_keys(self.task.definition.obtain_execution_role(), [cache])  # estate (issue 18)
        grant_read_config(config.bucket, task_role)
        if database is not None:
            database.grant_connect(task_role)
        self.task.grant_bedrock()
        self.task.suppress_task_role_wildcards()
        self.task.suppress_execution_role_wildcards()

        self.load_balancer = GatewayLoadBalancer(
            self,
            "LoadBalancer",
            front_door=props.front_door,
            vpc=props.vpc,
            subnets=props.alb_subnets,
            security_group=props.security_groups.alb,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task.definition,
            desired_count=workload.compute.replicas.desired,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            security_groups=[props.security_groups.service],
            vpc_subnets=props.app_subnets,
            assign_public_ip=workload.network_mode == "public",
            health_check_grace_period=Duration.seconds(90),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        self.target_group = self.load_balancer.add_gateway_targets(  # forwards only gateway.exposure (issue 12)
            "Gateway",
            port=workload.port,
            targets=[self.service.load_balancer_target(container_name="gateway", container_port=workload.port)],
            deregistration_delay=Duration.seconds(timings.alb_deregistration_delay),
            health_check=elbv2.HealthCheck(
                path=READINESS_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        self._autoscaling(workload)
        if database is not None:
            self._migrations(workload, database)
        CfnOutput(self, "GatewayUrl", value=self.load_balancer.url)
        CfnOutput(self, "LoadBalancerDnsName", value=self.load_balancer.alb.load_balancer_dns_name)
        CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)
        CfnOutput(self, "ServiceName", value=self.service.service_name)

    def _task_secrets(self, injected: Sequence[InjectedSecret], cache: CacheEndpoint | None) -> dict[str, ecs.Secret]:
        """ECS `secrets` of the gateway container: config secret refs, plus the cache AUTH token."""
        imported: dict[str, sm.ISecret] = {}
        out: dict[str, ecs.Secret] = {}
        for item in injected:
            assert item.ref.secret is not None
            if item.ref.secret not in imported:
                cid = "Imported" + re.sub(r"[^A-Za-z0-9]", "", item.ref.secret.title())
                imported[item.ref.secret] = import_for_task(self, cid, item.locator)
            out[item.env_var] = ecs.Secret.from_secrets_manager(imported[item.ref.secret], item.ref.key)
        if cache is not None:
            auth = import_for_task(self, "ImportedCacheAuthToken", cache.auth_secret_locator)
            out["REDIS_PASSWORD"] = ecs.Secret.from_secrets_manager(auth)
        return out

    def _database_ca(self) -> str:
        ca = self.props.workload.database_ca
        if ca is None:
            raise SynthError(f"environment `{self.props.workload.environment_name}`: no database CA bundle was read")
        return ca

    def _autoscaling(self, workload: GatewayWorkload) -> None:
        compute = workload.compute
        scaling = self.service.auto_scale_task_count(
            min_capacity=compute.replicas.min, max_capacity=compute.replicas.max
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=compute.autoscaling.cpu_target_percent,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )
        scaling.scale_on_request_count(
            "Requests",
            requests_per_target=compute.autoscaling.requests_per_target,
            target_group=self.target_group,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )
        # Long LLM streams hold a task busy at low CPU: scale on the work in progress. Every task's collector emits
        # its in-flight count under the same Deployment dimension, so the Average statistic is in-flight per task.
        # Target tracking policies combine as scale out on any, scale in on all: CPU stays the floor.
        scaling.scale_to_track_custom_metric(
            "InFlight",
            metric=cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=IN_FLIGHT_METRIC,
                dimensions_map={DEPLOYMENT_DIMENSION: workload.basics.prefix},
                statistic="Average",
                period=Duration.minutes(1),
            ),
            target_value=workload.in_flight_target,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )

    def _migrations(self, workload: GatewayWorkload, database: DatabaseEndpoint) -> None:
        props = self.props
        migrations = Migrations(
            self,
            "Migrations",
            workload=workload,
            cluster=self.cluster,
            image=gateway_image(workload.compute.image, props.config.repository),
            database_environment=database_environment(database, self._database_ca()),
            admin_secret=sm.Secret.from_secret_complete_arn(self, "ImportedDatabaseAdmin", database.admin_secret_arn),
            subnets=props.vpc.select_subnets(subnet_group_name=props.app_subnets.subnet_group_name).subnet_ids,
            security_group=props.security_groups.service,
            task_logs=props.logs.migrations,
            logs_key=props.logs.key,
        )
        grant_decrypt_via_secrets_manager(migrations.definition.obtain_execution_role(), [props.data_key])
        grant_existing_secret_keys(migrations.definition.obtain_execution_role(), [database])  # estate
        migrations.run.node.add_dependency(database.runtime_user)
        self.service.node.add_dependency(migrations.run)
