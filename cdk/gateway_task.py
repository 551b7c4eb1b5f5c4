"""The gateway's Fargate task: the gateway container (non-root, read-only root filesystem with explicit writable
volumes, a real health check, drain-derived stopTimeout, secrets injected through ECS `secrets`) and the ADOT
collector sidecar; plus the least-privilege task role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cdk.architecture import task_platform
from cdk.collector import collector_config_yaml
from cdk.images import collector_image, gateway_image
from cdk.policy import suppress_nag
from cdk.props import GatewayWorkload
from cdk.secrets_stack import SynthError
from gatekit.config.gateway import ModelDeployment
from gatekit.render import container

# The gateway's user, writable paths, port, probes and args come from the one container contract
# (gatekit.render.container); the collector image runs as its own non-root user (aoc, 10001).
COLLECTOR_USER = "10001"
READINESS_PATH = container.READINESS_PATH


def writable_volumes(spec: container.ContainerSpec) -> dict[str, str]:
    return {w.name: w.path for w in spec.writable}


def health_check_command(spec: container.ContainerSpec) -> list[str]:
    """Exec form (the image has no shell): the image's own probe of the liveness endpoint on the deployed port."""
    return ["CMD", *container.HEALTHCHECK]


@dataclass(frozen=True)
class TaskInputs:
    """Everything the task needs from the other stacks, as typed values (no lookups)."""

    repository: ecr.IRepository
    config_uri: str
    secrets: dict[str, ecs.Secret]
    extra_environment: dict[str, str]
    gateway_logs: logs.ILogGroup
    collector_logs: logs.ILogGroup
    ssm_reachable: bool


class GatewayTask(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, workload: GatewayWorkload, inputs: TaskInputs) -> None:
        super().__init__(scope, construct_id)
        self.workload = workload
        timings = workload.timings
        self.definition = ecs.FargateTaskDefinition(
            self,
            "Definition",
            cpu=workload.compute.cpu,
            memory_limit_mib=workload.compute.memory_mib,
            runtime_platform=task_platform(workload.compute),  # compute.architecture (cdk/architecture.py)
        )
        spec = workload.container
        for name in writable_volumes(spec):
            self.definition.add_volume(name=name)

        environment = {
            **workload.plain_environment,
            **inputs.extra_environment,
            "GATEKIT_CONFIG_URI": inputs.config_uri,
            "GATEKIT_RUNTIME_DIR": spec.runtime_dir,
            "GATEKIT_HEALTH_PORT": str(spec.port),
        }
        self.gateway = self.definition.add_container(
            "gateway",
            image=gateway_image(workload.compute.image, inputs.repository),
            essential=True,
            command=list(spec.args),
            user=spec.user,
            readonly_root_filesystem=True,
            port_mappings=[ecs.PortMapping(container_port=spec.port, name="http")],
            environment=dict(sorted(environment.items())),
            secrets=dict(sorted(inputs.secrets.items())),
            stop_timeout=Duration.seconds(timings.ecs_stop_timeout),
            health_check=ecs.HealthCheck(
                command=health_check_command(spec),
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(60),
            ),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="gateway", log_group=inputs.gateway_logs),
        )
        self._mount(self.gateway, writable_volumes(spec))
        suppress_nag(
            self.definition,
            "AwsSolutions-ECS2",
            "Plain settings only (LiteLLM switches, config URI, endpoints, OTel); every secret reference is injected "
            "through ECS `secrets` from Secrets Manager.",
        )
        self.collector = self._collector(workload, inputs)
        self.gateway.add_container_dependencies(
            ecs.ContainerDependency(container=self.collector, condition=ecs.ContainerDependencyCondition.START)
        )

    def _mount(self, target: ecs.ContainerDefinition, volumes: dict[str, str]) -> None:
        target.add_mount_points(
            *(
                ecs.MountPoint(source_volume=name, container_path=path, read_only=False)
                for name, path in volumes.items()
            )
        )

    def _collector(self, workload: GatewayWorkload, inputs: TaskInputs) -> ecs.ContainerDefinition:
        config_yaml = collector_config_yaml(workload.port, workload.basics.prefix, inputs.collector_logs.log_group_name)
        if not inputs.ssm_reachable:
            # The image's built-in config scrapes nothing gatekit emits: no silent fallback.
            raise SynthError(
                f"`{workload.environment_name}`: the ADOT collector reads its config from SSM Parameter Store; an "
                "isolated network needs the `ssm` VPC endpoint (network.endpoints)"
            )
        parameter = ssm.StringParameter(
            self,
            "CollectorConfig",
            string_value=config_yaml,
            description=f"{workload.basics.prefix}: ADOT collector config",
            tier=ssm.ParameterTier.ADVANCED if len(config_yaml) > 4000 else ssm.ParameterTier.STANDARD,
        )
        secrets = {"AOT_CONFIG_CONTENT": ecs.Secret.from_ssm_parameter(parameter)}
        collector = self.definition.add_container(
            "adot-collector",
            image=collector_image(workload.collector_image, workload.network_mode, inputs.repository),
            essential=False,
            user=COLLECTOR_USER,
            readonly_root_filesystem=True,
            secrets=secrets,
            memory_reservation_mib=128,
            stop_timeout=Duration.seconds(workload.timings.ecs_stop_timeout),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="adot", log_group=inputs.collector_logs),
        )
        self._mount(collector, {"tmp": "/tmp"})
        self._grant_collector(inputs.collector_logs)
        return collector

    def _grant_collector(self, emf_logs: logs.ILogGroup) -> None:
        role = self.definition.task_role
        role.add_to_principal_policy(xray_statement())
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="EmfMetrics",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[emf_logs.log_group_arn, f"{emf_logs.log_group_arn}:log-stream:*"],
            )
        )

    def grant_bedrock(self) -> None:
        statement = bedrock_statement(self.workload.models, Stack.of(self))
        if statement is not None:
            self.definition.task_role.add_to_principal_policy(statement)

    def suppress_task_role_wildcards(self) -> None:
        policy = self.definition.task_role.node.try_find_child("DefaultPolicy")
        assert policy is not None
        suppress_nag(
            policy,
            "AwsSolutions-IAM5",
            "X-Ray has no resource-level permissions (Resource *); log streams are created by the collector at run "
            "time; the S3 read is limited to the config and router prefixes; cross-region Bedrock inference profiles "
            "route to the foundation model in any region of the profile.",
        )

    def suppress_execution_role_wildcards(self) -> None:
        policy = self.definition.obtain_execution_role().node.try_find_child("DefaultPolicy")
        assert policy is not None
        suppress_nag(
            policy,
            "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken has no resource-level permissions (Resource *); pulls are limited to the "
            "gateway repository and secrets to the ones this task injects.",
        )


def bedrock_statement(models: Sequence[ModelDeployment], stack: Stack) -> iam.PolicyStatement | None:
    """InvokeModel on exactly the Bedrock models (and cross-region inference profiles) the config names."""
    resources: set[str] = set()
    for model in models:
        params = model.litellm_params
        if params is None or not params.model.startswith("bedrock/"):
            continue
        model_id = params.model.split("/", 1)[1]
        region = (params.model_extra or {}).get("aws_region_name") or stack.region
        prefix, _, rest = model_id.partition(".")
        if prefix in ("us", "eu", "apac", "global") and rest:
            resources.add(f"arn:{stack.partition}:bedrock:{region}:{stack.account}:inference-profile/{model_id}")
            resources.add(f"arn:{stack.partition}:bedrock:*::foundation-model/{rest}")
        else:
            resources.add(f"arn:{stack.partition}:bedrock:{region}::foundation-model/{model_id}")
    if not resources:
        return None
    return iam.PolicyStatement(
        sid="BedrockInvoke",
        actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        resources=sorted(resources),
    )


def xray_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="XRayWrite",
        actions=[
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:GetSamplingStatisticSummaries",
        ],
        resources=["*"],
    )
