"""One resolved environment: where it runs (target, platform, network, sizes) and the gateway it runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from gatekit.config.estate import Architecture, ExistingNetwork
from gatekit.config.estate_existing import ExistingAurora, ExistingCache, ExistingEksCluster
from gatekit.config.gateway import Gateway, Strict
from gatekit.config.gcp_ranges import DEFAULT_PROXY_ONLY_CIDR
from gatekit.config.secrets import SecretRef
from gatekit.config.tenants import Tenants

Target = Literal["local", "aws-ecs", "aws-eks", "gcp", "azure", "k8s", "moat"]
AWS_TARGETS = frozenset({"aws-ecs", "aws-eks"})


class Deployment(Strict):
    prefix: str = Field(
        default="gatekit",
        pattern=r"^[a-z][a-z0-9-]{1,19}$",
        description="Prefix of every logical name. Physical names are generated, so two deployments with "
        "different prefixes fit in one account and region.",
    )


class Aws(Strict):
    account: str | None = Field(default=None, pattern=r"^\d{12}$", description="Empty: from the CLI credentials.")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    permissions_boundary_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:policy/.+$")
    ecr_repository: str | None = Field(default=None, description="Private ECR repository for the gateway image.")
    collector_image: str = Field(
        default="public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0",
        description="ADOT collector sidecar image (ECS targets). In isolated networks a public.ecr.aws image is "
        "pulled from the gateway's private ECR repository instead, tagged `aws-otel-collector-<version>`.",
    )


CIDR = r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$"


class Gcp(Strict):
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    region: str
    proxy_only_cidr: str = Field(
        default=DEFAULT_PROXY_ONLY_CIDR,
        pattern=CIDR,
        description="Proxy-only subnet of GKE's internal Application Load Balancer (class `gce-internal`): created by "
        "the gcp program and admitted by the gateway's NetworkPolicy. Private, /26 or larger, clear of `network.cidr` "
        "and the GKE pod, Service and control plane ranges (gatekit.config.gcp_ranges).",
    )


class Azure(Strict):
    location: str
    subscription_id: str | None = Field(default=None, pattern=r"^[0-9a-f-]{36}$")


class Kubernetes(Strict):
    context: str | None = Field(default=None, description="kubeconfig context of an existing cluster (target k8s).")
    namespace: str = Field(default="gatekit", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    version: str = Field(default="1.33", pattern=r"^1\.\d+$", description="Cluster version for managed clusters.")
    node_machine_type: str | None = Field(
        default=None,
        description="Node size of a managed cluster (GKE machine type, AKS VM size); empty: the target's default.",
    )
    node_count_min: int = Field(default=2, ge=1, le=1000, description="Managed cluster: minimum nodes (autoscaler).")
    node_count_max: int = Field(default=6, ge=1, le=1000, description="Managed cluster: maximum nodes (autoscaler).")
    existing: ExistingEksCluster | None = Field(  # estate (issue 18)
        default=None,
        description="Target aws-eks: deploy into this existing EKS cluster (no cluster, nodes or add-ons created).",
    )


VpcEndpoint = Literal[
    "s3",
    "secretsmanager",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "sts",
    "kms",
    "xray",
    "monitoring",
    "bedrock-runtime",
    "ssm",
    "bedrock",
]


class Network(Strict):
    mode: Literal["public", "private", "isolated"] = Field(
        default="private",
        description="public: tasks with public IPs; private: NAT egress; "
        "isolated: no internet route, VPC endpoints only.",
    )
    cidr: str = Field(default="10.40.0.0/16", pattern=CIDR)
    az_count: int = Field(default=2, ge=2, le=3)
    endpoints: list[VpcEndpoint] = Field(default_factory=list, description="Interface endpoints (private/isolated).")
    flow_logs: bool = True
    allowed_ingress_cidrs: list[Annotated[str, Field(pattern=CIDR)]] | None = Field(
        default=None,
        description="Client networks the gateway's listener admits. Empty: internal listeners admit `cidr` (GKE's "
        "internal load balancer: the VPC and the networks connected to it); an internet-facing listener is refused "
        "until you name its clients, or `[0.0.0.0/0]` to admit the whole internet on purpose "
        "(gatekit.config.network_access).",
    )
    waf: bool = Field(
        default=True,
        description="AWS targets: attach an AWS WAF web ACL (AWS managed rule groups) "
        "to internet-facing load balancers.",
    )
    # security (issue 12): who reaches the cluster API and the config/secret stores (gatekit.clouds.private_access)
    deployer_cidrs: list[str] = Field(
        default_factory=list,
        description="GKE/AKS: networks the deployer (`pulumi up`) runs from. They alone reach the cluster API "
        "(GKE authorized networks, AKS authorized IP ranges) and the Azure Key Vault/storage firewalls. Empty: the "
        "control plane has a private endpoint only and the stores accept private endpoints only, so deploy from "
        "inside the network (a runner in the VPC/VNet, or a peered network).",
    )
    existing: ExistingNetwork | None = Field(  # estate (issue 18)
        default=None,
        description="Deploy into an existing VPC (AWS targets): gatekit creates no VPC, subnets, NAT or flow logs; "
        "`cidr` and `az_count` must match the subnets given.",
    )


class Domain(Strict):
    name: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    certificate_arn: str | None = Field(default=None, description="ACM certificate; empty: issued by DNS validation.")
    hosted_zone_id: str | None = None
    # security (issue 12): TLS on internal listeners too (gatekit.config.tls_checks)
    internal: bool = Field(
        default=False, description="The load balancer stays internal (VPC, peers, on-prem) and still serves HTTPS."
    )
    private_ca_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority/.+$",
        description="ACM Private CA that issues the listener certificate (internal names; no DNS validation).",
    )


class Replicas(Strict):
    min: int = Field(default=2, ge=1, le=1000)
    desired: int = Field(default=2, ge=1, le=1000)
    max: int = Field(default=6, ge=1, le=1000)


class Autoscaling(Strict):
    cpu_target_percent: int = Field(
        default=60, ge=10, le=95, description="CPU target tracking, kept as a floor beside the in-flight target."
    )
    requests_per_target: int = Field(default=200, ge=1, description="ALB requests per target per minute.")
    in_flight_target_percent: int = Field(
        default=50,
        ge=10,
        le=100,
        description="Scale on work in progress: the target average of requests in flight per replica, as a share "
        "of gateway.backpressure.max_in_flight (ECS: target tracking on the collector's CloudWatch metric; k8s: HPA "
        "on the gatekit_in_flight_requests pods metric). Below 100 the replicas scale out before they shed.",
    )


class Compute(Strict):
    cpu: int = Field(default=1024, description="vCPU units (1024 = 1 vCPU).")
    memory_mib: int = Field(default=2048, ge=512, le=122_880)
    replicas: Replicas = Field(default_factory=Replicas)
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    image: str | None = Field(default=None, description="Gateway image (digest-pinned outside local).")
    # --- estate (issue 18): CPU architecture; rules in gatekit/config/estate_checks.py ---
    architecture: Architecture = Field(
        default="x86_64",
        description="CPU architecture of ECS tasks and EKS nodes (arm64: Graviton). Must be one the image is built "
        "for: gatekit's image declares its architectures; a `compute.image` of your own declares them in "
        "`compute.image_architectures`.",
    )
    image_architectures: list[Architecture] = Field(
        default_factory=list,
        description="Architectures of the `compute.image` you bring (a multi-arch manifest); empty: gatekit's image.",
    )
    # --- end estate ---

    @field_validator("cpu")
    @classmethod
    def _fargate_cpu(cls, cpu: int) -> int:
        if cpu not in (256, 512, 1024, 2048, 4096, 8192, 16384):
            raise ValueError("cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384")
        return cpu


class Observability(Strict):
    otlp_endpoint: str | None = Field(default=None, description="OTLP/HTTP collector, e.g. http://127.0.0.1:4318.")
    xray: bool = Field(default=False, description="X-Ray trace ids and propagation.")
    traces_sample_ratio: float = Field(default=0.05, ge=0, le=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    litellm_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="LiteLLM's own logger (LITELLM_LOG). Its INFO lines are per request and cost CPU; gatekit's "
        "request log line (log_level) already records each request.",
    )
    log_retention_days: int = Field(default=30, ge=1, le=3653)
    alarm_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    collector_image: str = Field(
        default="otel/opentelemetry-collector-contrib:0.139.0",
        description="OpenTelemetry collector sidecar image for Kubernetes targets. Targets gcp, azure, k8s and aws-eks "
        "refuse a reference without a digest (`…@sha256:<64 hex>`, mirrored into your registry).",
    )
    collector_export_endpoint: str | None = Field(
        default=None,
        description="Target k8s: the OTLP/HTTP backend the collector sidecar forwards traces to (Tempo, Jaeger, a "
        "central collector); empty: no collector. GCP and Azure export to Cloud Trace and Azure Monitor.",
    )


class Secrets(Strict):
    master_key: SecretRef = Field(description="LiteLLM master key (admin API and inference auth).")
    salt_key: SecretRef | None = Field(default=None, description="Encrypts credentials LiteLLM stores in its DB.")


class Database(Strict):
    enabled: bool = Field(default=False, description="LiteLLM's Postgres (virtual keys, spend). Off: DB-less.")
    engine_version: str = Field(default="16.6", pattern=r"^\d+\.\d+$")
    min_capacity_acu: float = Field(default=0.5, ge=0, le=256)
    max_capacity_acu: float = Field(default=4, ge=1, le=256)
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    deletion_protection: bool = True
    url: SecretRef | None = Field(default=None, description="Bring-your-own database URL (targets k8s, local).")
    existing: ExistingAurora | None = Field(  # estate (issue 18)
        default=None, description="AWS targets: use this existing Aurora PostgreSQL cluster instead of creating one."
    )
    ca_bundle: str | None = Field(
        default=None,
        description="AWS targets (aws-ecs, aws-eks, moat): PEM file of the RDS certificate bundle for your region "
        "(public data, from the RDS documentation), relative to the directory gatekit runs from. The gateway and "
        "its migrations verify Aurora's certificate and name against it (sslmode=verify-full); required with a "
        "gatekit-created or `existing` Aurora cluster.",
    )
    connection_limit: int = Field(
        default=400,
        ge=10,
        le=10_000,
        description="Connections the database accepts (Postgres max_connections). Every gateway process gets "
        "(connection_limit - reserved_connections) / (compute.replicas.max x gateway.workers) as its LiteLLM pool.",
    )
    reserved_connections: int = Field(
        default=20, ge=0, description="Connections kept out of the gateway's pools: migrations, operators, tools."
    )


class Cache(Strict):
    enabled: bool = Field(default=False, description="Managed Redis/Valkey for cache, rate limits and router state.")
    engine: Literal["valkey", "redis"] = "valkey"
    node_type: str = "cache.t4g.small"
    replicas_per_shard: int = Field(default=1, ge=0, le=5)
    multi_az: bool = True
    url: SecretRef | None = Field(default=None, description="Bring-your-own Redis URL (targets k8s, local).")
    existing: ExistingCache | None = Field(  # estate (issue 18)
        default=None,
        description="AWS targets: use this existing ElastiCache replication group instead of creating one.",
    )


class Environment(Strict):
    """The resolved configuration of one environment (after `extends`)."""

    name: str = Field(description="Environment name (the file name).")
    description: str = ""
    target: Target
    deployment: Deployment = Field(default_factory=Deployment)
    aws: Aws | None = None
    gcp: Gcp | None = None
    azure: Azure | None = None
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    network: Network = Field(default_factory=Network)
    domain: Domain | None = None
    compute: Compute = Field(default_factory=Compute)
    observability: Observability = Field(default_factory=Observability)
    secrets: Secrets
    database: Database = Field(default_factory=Database)
    cache: Cache = Field(default_factory=Cache)
    tags: dict[str, str] = Field(default_factory=dict, description="Applied to every resource.")
    required_tags: list[str] = Field(default_factory=lambda: ["project", "environment", "owner"])
    gateway: Gateway
    tenants: Tenants = Field(
        default_factory=Tenants,
        description="Teams, users and virtual keys, reconciled by `gatekit tenants plan|apply` (needs the database).",
    )

    @model_validator(mode="after")
    def _workers_from_vcpus(self) -> Environment:
        """An empty `gateway.workers` becomes one per vCPU of the replica (gatekit/config/sizing.py), so every
        rendered document and deployment carries the number the replica runs."""
        if self.gateway.workers is None:
            from gatekit.config.sizing import default_workers

            self.gateway.workers = default_workers(self.compute.cpu)
        return self
