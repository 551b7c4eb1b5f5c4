"""Compose the stacks of one environment, and synthesize them without the CDK CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import App, Aspects, Stack, cx_api
from aws_cdk import Environment as CdkEnvironment
from cdk_nag import AwsSolutionsChecks

from cdk.config_stack import ConfigStack
from cdk.data_stack import DataStack
from cdk.exemptions import apply_framework_exemptions
from cdk.gateway_ecs_stack import GatewayEcsStack
from cdk.monitoring_stack import MonitoringStack
from cdk.network_stack import NetworkStack
from cdk.observability_stack import ObservabilityStack
from cdk.policy import apply_account_rules
from cdk.secrets_stack import SecretsStack, SynthError
from gatekit.config import Environment

ECS_TARGETS = ("aws-ecs", "moat")
# Context every synthesis uses, with or without the CDK CLI (cdk.json adds nothing that changes templates).
APP_CONTEXT: dict[str, object] = {
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/core:checkSecretUsage": True,
    "@aws-cdk/aws-ecs:arnFormatIncludesClusterName": True,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


@dataclass
class GatekitStacks:
    network: NetworkStack
    secrets: SecretsStack
    data: DataStack
    config: ConfigStack
    observability: ObservabilityStack
    gateway: Stack
    monitoring: MonitoringStack | None = None

    def all(self) -> list[Stack]:
        stacks: list[Stack] = [self.network, self.secrets, self.data, self.config, self.observability, self.gateway]
        return stacks + ([self.monitoring] if self.monitoring is not None else [])


def new_app(outdir: str | Path | None = None) -> App:
    return App(outdir=str(outdir) if outdir else None, context=dict(APP_CONTEXT), analytics_reporting=False)


def build_app(app: App, env: Environment, *, nag: bool = True) -> GatekitStacks:
    """Add every stack of `env` to `app`. cdk-nag (AwsSolutions) runs on all of them unless `nag` is off."""
    if env.aws is None or env.target not in (*ECS_TARGETS, "aws-eks"):
        raise SynthError(
            f"environment `{env.name}` has target `{env.target}`; the CDK app renders aws-ecs, aws-eks, moat"
        )
    prefix = env.deployment.prefix
    where = CdkEnvironment(account=env.aws.account, region=env.aws.region)

    def name(part: str) -> str:
        return f"{prefix}-{part}"

    def describe(what: str) -> str:
        return f"gatekit {env.name} ({prefix}): {what}"

    network = NetworkStack(app, name("network"), env_config=env, env=where, description=describe("network"))
    secrets = SecretsStack(app, name("secrets"), env_config=env, env=where, description=describe("secrets"))
    data = DataStack(app, name("data"), env_config=env, network=network, env=where, description=describe("data"))
    config = ConfigStack(app, name("config"), env_config=env, env=where, description=describe("config and image"))
    observability = ObservabilityStack(
        app, name("observability"), env_config=env, env=where, description=describe("logs, traces, alarm topic")
    )
    if env.target == "aws-eks":
        from cdk.gateway_eks_stack import GatewayEksStack

        eks_gateway = GatewayEksStack(
            app,
            name("gateway"),
            env_config=env,
            network=network,
            secrets=secrets,
            data=data,
            config=config,
            env=where,
            description=describe("gateway on EKS"),
        )
        stacks = GatekitStacks(network, secrets, data, config, observability, eks_gateway)
    else:
        gateway = GatewayEcsStack(
            app,
            name("gateway"),
            env_config=env,
            network=network,
            secrets=secrets,
            data=data,
            config=config,
            observability=observability,
            env=where,
            description=describe("gateway on ECS Fargate"),
        )
        monitoring = MonitoringStack(
            app,
            name("monitoring"),
            env_config=env,
            gateway=gateway,
            data=data,
            observability=observability,
            env=where,
            description=describe("dashboard and alarms"),
        )
        stacks = GatekitStacks(network, secrets, data, config, observability, gateway, monitoring)
    for stack in stacks.all():
        apply_account_rules(stack, env)
        apply_framework_exemptions(stack)
    if nag:
        Aspects.of(app).add(AwsSolutionsChecks(verbose=True, reports=False))
    return stacks


@dataclass
class SynthResult:
    outdir: Path
    templates: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def synth_environment(env: Environment, outdir: str | Path, *, nag: bool = True) -> SynthResult:
    """Synthesize every stack of `env` into `outdir` (CloudFormation templates + assets); collect error annotations
    (cdk-nag findings included) instead of printing them."""
    app = new_app(outdir)
    stacks = build_app(app, env, nag=nag)
    assembly = app.synth()
    result = SynthResult(outdir=Path(outdir))
    for stack in stacks.all():
        artifact = assembly.get_stack_by_name(stack.stack_name)
        result.templates[stack.stack_name] = Path(assembly.directory) / artifact.template_file
        for message in artifact.messages:
            if message.level == cx_api.SynthesisMessageLevel.ERROR:
                result.errors.append(f"{message.id}: {message.entry.data}")
    return result
