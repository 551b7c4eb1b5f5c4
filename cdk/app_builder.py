"""Compose the stacks of one environment, and synthesize them without the CDK CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import App, Aspects, Stack, cx_api
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks

from cdk.config_stack import ConfigStack, environment_document, local_router_artifact, rendered_config_yaml
from cdk.data_stack import DataStack
from cdk.exemptions import apply_framework_exemptions
from cdk.gateway_ecs_stack import GatewayEcsStack, database_ca
from cdk.monitoring_stack import MonitoringStack
from cdk.network_stack import (
    NetworkStack,
    agent_egress,
    availability_zones,
    existing_stores,
    public_load_balancer,
    upstream_ports,
)
from cdk.observability_stack import ObservabilityStack, service_name
from cdk.policy import apply_account_rules
from cdk.props import (
    ConfigProps,
    DataProps,
    FrontDoor,
    GatewayEcsProps,
    GatewayEksProps,
    GatewayWorkload,
    MonitoringProps,
    NetworkProps,
    ObservabilityProps,
    SecretsProps,
)
from cdk.secrets_stack import SecretsStack, SynthError
from cdk.shared import as_interface, basics_of
from cdk.waf import web_acl_rules
from gatekit.config import DrainTimings, Environment
from gatekit.config.estate_checks import interface_endpoints
from gatekit.config.network_access import ingress_cidrs
from gatekit.config.sizing import in_flight_target
from gatekit.render import container
from gatekit.render.env import render_environment

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

    basics = basics_of(env)
    eks = env.target == "aws-eks"
    network = NetworkStack(app, name("network"), props=network_props(env), env=where, description=describe("network"))
    secrets = SecretsStack(
        app,
        name("secrets"),
        props=SecretsProps(basics=basics, secrets=render_environment(env).secrets),
        env=where,
        description=describe("secrets"),
    )
    data_props = DataProps(
        basics=basics,
        environment_name=env.name,
        database=env.database,
        cache=env.cache,
        runtime_migrates=eks,
        vpc=network.vpc,
        data_subnets=network.data_subnets,
        security_groups=network.security_groups,
        output_service_group=bool(env.database.existing or env.cache.existing) and not eks,
    )
    data = DataStack(app, name("data"), props=data_props, env=where, description=describe("data"))
    config_props = ConfigProps(
        basics=basics,
        document=environment_document(env),
        litellm_yaml=rendered_config_yaml(env),
        router_artifact=local_router_artifact(env),
        ecr_repository=env.aws.ecr_repository,
    )
    config = ConfigStack(app, name("config"), props=config_props, env=where, description=describe("config and image"))
    observability_props = ObservabilityProps(
        basics=basics,
        service_name=service_name(env),
        traces_sample_ratio=env.observability.traces_sample_ratio,
        alarm_email=env.observability.alarm_email,
    )
    observability = ObservabilityStack(
        app,
        name("observability"),
        props=observability_props,
        env=where,
        description=describe("logs, traces, alarm topic"),
    )
    if eks:
        from cdk.gateway_eks_stack import GatewayEksStack

        eks_props = GatewayEksProps(
            model=env,
            vpc=network.vpc,
            app_subnets=network.app_subnets,
            security_groups=network.security_groups,
            injected=tuple(secrets.injected),
            secrets_key=secrets.key,
            data_key=data.key,
            database=data.database_endpoint,
            cache=data.cache_endpoint,
            config=config.source,
        )
        eks_gateway = GatewayEksStack(
            app, name("gateway"), props=eks_props, env=where, description=describe("gateway on EKS")
        )
        stacks = GatekitStacks(network, secrets, data, config, observability, eks_gateway)
    else:
        ecs_props = GatewayEcsProps(
            workload=gateway_workload(env, with_database=data.database_endpoint is not None),
            front_door=front_door(env),
            vpc=network.vpc,
            app_subnets=network.app_subnets,
            alb_subnets=network.alb_subnets,
            security_groups=network.security_groups,
            injected=tuple(secrets.injected),
            secrets_key=secrets.key,
            data_key=data.key,
            database=data.database_endpoint,
            cache=data.cache_endpoint,
            config=config.source,
            logs=observability.log_groups,
        )
        gateway = GatewayEcsStack(
            app, name("gateway"), props=ecs_props, env=where, description=describe("gateway on ECS Fargate")
        )
        database, cache = data.database_endpoint, data.cache_endpoint
        monitoring_props = MonitoringProps(
            prefix=prefix,
            alb=as_interface(gateway.load_balancer.alb, elbv2.IApplicationLoadBalancer),
            target_group=as_interface(gateway.target_group, elbv2.IApplicationTargetGroup),
            service=gateway.service,
            database=database.cluster if database is not None else None,
            cache_node_id=cache.primary_node_id if cache is not None else None,
            topic=as_interface(observability.alarm_topic, sns.ITopic),
        )
        monitoring = MonitoringStack(
            app, name("monitoring"), props=monitoring_props, env=where, description=describe("dashboard and alarms")
        )
        stacks = GatekitStacks(network, secrets, data, config, observability, gateway, monitoring)
    for stack in stacks.all():
        apply_account_rules(stack, env)
        apply_framework_exemptions(stack)
    if nag:
        Aspects.of(app).add(AwsSolutionsChecks(verbose=True, reports=False))
    return stacks


def network_props(env: Environment) -> NetworkProps:
    return NetworkProps(
        basics=basics_of(env),
        network=env.network,
        availability_zones=tuple(availability_zones(env)),
        gateway_port=env.gateway.port,
        upstream_ports=tuple(upstream_ports(env)),
        agent_egress=agent_egress(env),
        interface_endpoints=tuple(interface_endpoints(env)),
        tls=env.domain is not None,
        public_load_balancer=public_load_balancer(env),
        ingress_cidrs=tuple(ingress_cidrs(env)),
        existing_stores=existing_stores(env),
        admit_tasks_to_existing_stores=env.target != "aws-eks",
    )


def gateway_workload(env: Environment, *, with_database: bool) -> GatewayWorkload:
    """The gateway process on ECS as rendered from the model (container contracts, environment, sizing, images)."""
    assert env.aws is not None
    network = env.network
    return GatewayWorkload(
        environment_name=env.name,
        basics=basics_of(env),
        port=env.gateway.port,
        compute=env.compute,
        in_flight_target=in_flight_target(env),
        timings=DrainTimings.from_drain(env.gateway.drain),
        container=container.gateway_container(env),
        migrations_container=container.migrations_container(env),
        plain_environment=render_environment(env).plain,
        collector_image=env.aws.collector_image,
        network_mode=network.mode,
        ssm_reachable=network.mode != "isolated" or "ssm" in network.endpoints,
        models=tuple(env.gateway.models),
        database_ca=database_ca(env) if with_database else None,
    )


def front_door(env: Environment) -> FrontDoor:
    """The load balancer's inputs: reach, domain, exposure, WAF rules (cdk.waf) when network.waf is on."""
    return FrontDoor(
        environment_name=env.name,
        basics=basics_of(env),
        public=public_load_balancer(env),
        deletion_protection=env.database.deletion_protection,
        idle_timeout_seconds=min(int(env.gateway.routing.timeout_seconds) + 5, 4000),
        domain=env.domain,
        exposure=env.gateway.exposure,
        waf_rules=web_acl_rules(env) if env.network.waf else None,
    )


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
