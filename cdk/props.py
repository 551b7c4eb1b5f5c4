"""The typed inputs of the CDK stacks (ADR 0031): one frozen props dataclass per stack, built by cdk/app_builder.py.

A stack receives the config slices it uses and typed interfaces (`ec2.IVpc`, `kms.IKey`, `s3.IBucket`, …) or small
frozen endpoint values, never another stack; only app.py / app_builder.py read CDK context and the whole
`Environment`. The ECS gateway gets its workload pre-rendered (`GatewayWorkload`, `FrontDoor`); the EKS gateway is the
one exception on the config side: `model` is the environment, passed on to the renderers that take the typed model
whole (`gatekit.render.k8s.render_gateway_manifests`, the existing-cluster rules); tests/cdk/test_props.py allows
that one field."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sns as sns
from constructs import Construct

from gatekit.config import DrainTimings, Environment, SecretRef
from gatekit.config.environment import Cache as CacheConfig
from gatekit.config.environment import Compute, Domain
from gatekit.config.environment import Database as DatabaseConfig
from gatekit.config.environment import Network as NetworkConfig
from gatekit.config.estate_existing import ExistingAurora, ExistingCache
from gatekit.config.exposure import Exposure
from gatekit.config.gateway import ModelDeployment
from gatekit.render.container import ContainerSpec


@dataclass(frozen=True)
class Basics:
    """What every stack names and keeps by: the deployment prefix, the data removal policy, log retention."""

    prefix: str
    removal: RemovalPolicy
    log_retention_days: int


@dataclass(frozen=True)
class SecurityGroups:
    """The tiers' security groups (network stack), handed to the data and gateway stacks."""

    alb: ec2.ISecurityGroup
    service: ec2.ISecurityGroup
    database: ec2.ISecurityGroup
    cache: ec2.ISecurityGroup


@dataclass(frozen=True)
class EgressRule:
    """One egress of the gateway's security group to an MCP server or A2A agent (issue 19)."""

    cidr: str
    port: int
    description: str


@dataclass(frozen=True)
class ExistingStores:
    """The estate's existing data stores that are enabled (issue 18); None where gatekit creates or skips one."""

    database: ExistingAurora | None
    cache: ExistingCache | None


@dataclass(frozen=True)
class InjectedSecret:
    """One environment variable of the gateway process and the secret (and JSON field) it comes from."""

    env_var: str
    ref: SecretRef
    secret: sm.ISecret
    # Where consumers find it without a cross-stack reference: the configured ARN, or the fixed name given here.
    locator: str


@dataclass(frozen=True)
class DatabaseEndpoint:
    """What the gateway and monitoring stacks use of the database (created or existing): where it is, its admin
    secret, the customer-managed keys of its secrets, the runtime user's custom resource (migrations wait for it),
    `grant_connect` (rds-db:connect as the runtime user, a method of the owning construct) and the cluster's metrics."""

    host: str
    port: int
    database_name: str
    admin_secret_arn: str
    secret_key_arns: tuple[str, ...]
    runtime_user: Construct
    grant_connect: Callable[[iam.IGrantable], None]
    cluster: rds.IDatabaseCluster
    created: bool  # by this kit (its security group is the network stack's), not an existing cluster


@dataclass(frozen=True)
class CacheEndpoint:
    host: str
    port: int
    auth_secret_locator: str  # the AUTH token secret's ARN or fixed name (no cross-stack export)
    secret_key_arns: tuple[str, ...]
    primary_node_id: str
    created: bool


@dataclass(frozen=True)
class ConfigSource:
    """The config bucket every replica reads, the URI of its document, and the gateway image repository."""

    bucket: s3.IBucket
    config_uri: str
    repository: ecr.IRepository


@dataclass(frozen=True)
class GatewayLogGroups:
    gateway: logs.ILogGroup
    collector: logs.ILogGroup
    migrations: logs.ILogGroup
    key: kms.IKey


@dataclass(frozen=True)
class GatewayWorkload:
    """The gateway process on ECS, rendered from the model by app_builder: container contracts, plain environment,
    sizing, drain timings, the images, the models it may invoke (Bedrock grants)."""

    environment_name: str
    basics: Basics
    port: int
    compute: Compute  # sizing, architecture, image, replicas, autoscaling
    in_flight_target: int
    timings: DrainTimings
    container: ContainerSpec
    migrations_container: ContainerSpec
    plain_environment: Mapping[str, str]  # render_environment(env).plain: settings only, never a secret
    collector_image: str  # aws.collector_image
    network_mode: str
    ssm_reachable: bool  # the collector reads its config from SSM Parameter Store
    models: tuple[ModelDeployment, ...]
    database_ca: str | None  # database.ca_bundle as PEM, when the gateway has a database


@dataclass(frozen=True)
class FrontDoor:
    """The load balancer's inputs: reach, domain (certificate), what it forwards, the WAF rules (None: no WAF)."""

    environment_name: str
    basics: Basics
    public: bool
    deletion_protection: bool
    idle_timeout_seconds: int
    domain: Domain | None
    exposure: Exposure
    waf_rules: Sequence[Mapping[str, Any]] | None


@dataclass(frozen=True)
class NetworkProps:
    basics: Basics
    network: NetworkConfig
    availability_zones: tuple[str, ...]
    gateway_port: int
    upstream_ports: tuple[int, ...]  # non-HTTPS ports of model upstreams (api_base)
    agent_egress: tuple[EgressRule, ...]
    interface_endpoints: tuple[str, ...]
    tls: bool  # a domain: HTTPS listener (80 redirects)
    public_load_balancer: bool
    ingress_cidrs: tuple[str, ...]  # gatekit.config.network_access.ingress_cidrs: who may reach the listener
    existing_stores: ExistingStores
    admit_tasks_to_existing_stores: bool  # ECS tasks; EKS pods are admitted by the gateway stack


@dataclass(frozen=True)
class SecretsProps:
    basics: Basics
    secrets: Mapping[str, SecretRef]  # env var -> reference, as rendered for the gateway process


@dataclass(frozen=True)
class DataProps:
    basics: Basics
    environment_name: str
    database: DatabaseConfig
    cache: CacheConfig
    runtime_migrates: bool  # EKS: no migrations task, the runtime user may create the schema
    vpc: ec2.IVpc
    data_subnets: ec2.SubnetSelection
    security_groups: SecurityGroups
    output_service_group: bool  # estate on ECS: output the tasks' group for the estate to admit


@dataclass(frozen=True)
class ConfigProps:
    basics: Basics
    document: str  # the sync document every replica validates and applies
    litellm_yaml: str  # the rendered LiteLLM config, for reviewers
    router_artifact: Path | None
    ecr_repository: str | None  # aws.ecr_repository: imported instead of created


@dataclass(frozen=True)
class ObservabilityProps:
    basics: Basics
    service_name: str
    traces_sample_ratio: float
    alarm_email: str | None


@dataclass(frozen=True)
class GatewayEcsProps:
    workload: GatewayWorkload
    front_door: FrontDoor
    vpc: ec2.IVpc
    app_subnets: ec2.SubnetSelection
    alb_subnets: ec2.SubnetSelection
    security_groups: SecurityGroups
    injected: tuple[InjectedSecret, ...]
    secrets_key: kms.IKey
    data_key: kms.IKey
    database: DatabaseEndpoint | None
    cache: CacheEndpoint | None
    config: ConfigSource
    logs: GatewayLogGroups


@dataclass(frozen=True)
class GatewayEksProps:
    model: Environment  # for the renderers that take it whole only (module docstring)
    vpc: ec2.IVpc
    app_subnets: ec2.SubnetSelection
    security_groups: SecurityGroups
    injected: tuple[InjectedSecret, ...]
    secrets_key: kms.IKey
    data_key: kms.IKey
    database: DatabaseEndpoint | None
    cache: CacheEndpoint | None
    config: ConfigSource


@dataclass(frozen=True)
class MonitoringProps:
    prefix: str
    alb: elbv2.IApplicationLoadBalancer
    target_group: elbv2.IApplicationTargetGroup
    service: ecs.BaseService  # its metric helpers are not on ecs.IBaseService
    database: rds.IDatabaseCluster | None
    cache_node_id: str | None
    topic: sns.ITopic
