"""GCP: a private GKE cluster with Workload Identity and GKE secret sync, the data services of gcp_data, and the
gateway component with traces to Cloud Trace through the collector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from gatekit.clouds.common import (
    Ctx,
    Unit,
    config_document,
    gcp_labels,
    managed_secret_env,
    operator_secrets,
    store_secret_names,
)
from gatekit.clouds.component import GatewayArgs, GatewayComponent
from gatekit.clouds.gcp_armor import security_policy
from gatekit.clouds.gcp_data import GcpDataArgs, GcpDataServices, GcpSecrets, GcpSecretsArgs
from gatekit.clouds.private_access import gke_authorized_networks, gke_private_cluster
from gatekit.config import Environment
from gatekit.config.environment import Kubernetes
from gatekit.config.gcp_ranges import MASTER_RANGE, PODS_RANGE, SERVICES_RANGE
from gatekit.render.k8s import CollectorExporter, SecretStore

APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "sqladmin.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudtrace.googleapis.com",
    "iam.googleapis.com",
)
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/artifactregistry.reader",
)
DEFAULT_MACHINE = "e2-standard-4"


@dataclass(frozen=True)
class GcpNetworkArgs:
    cidr: str  # the nodes' subnet (network.cidr)
    flow_logs: bool
    nat: bool  # Cloud NAT for the private nodes' egress (not in isolated networks)
    proxy_only_cidr: str | None  # the internal Application Load Balancer's proxy subnet, when gce-internal is used


class GcpNetwork(Unit):
    """VPC, subnets, NAT and private service access. `vpc`, `subnet`, `peering`."""

    def __init__(self, ctx: Ctx, args: GcpNetworkArgs) -> None:
        super().__init__("gcp:Network", ctx, "network")
        self.vpc, self.subnet, self.peering = network(self.ctx, args)
        self.register_outputs({"vpc": self.vpc.id})


def network(ctx: Ctx, args: GcpNetworkArgs) -> tuple[gcp.compute.Network, gcp.compute.Subnetwork, pulumi.Resource]:
    """VPC, GKE subnet with pod/service ranges, NAT unless isolated (the nodes are private), private service access
    for SQL and Redis."""
    name, opts = ctx.name, ctx.opts
    vpc = gcp.compute.Network(f"{name}-vpc", auto_create_subnetworks=False, opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{name}-nodes",
        network=vpc.id,
        ip_cidr_range=args.cidr,
        private_ip_google_access=True,
        secondary_ip_ranges=[
            {"range_name": "pods", "ip_cidr_range": PODS_RANGE},
            {"range_name": "services", "ip_cidr_range": SERVICES_RANGE},
        ],
        log_config={"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5} if args.flow_logs else None,
        opts=opts,
    )
    if args.proxy_only_cidr is not None:
        # The internal Application Load Balancer (the gateway's TLS front door) runs its proxies in this subnet.
        gcp.compute.Subnetwork(
            f"{name}-proxy-only",
            network=vpc.id,
            ip_cidr_range=args.proxy_only_cidr,  # gatekit.config.gcp_ranges
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=opts,
        )
    if args.nat:  # private nodes have no public IP: NAT is their egress in public mode too
        router = gcp.compute.Router(f"{name}-router", network=vpc.id, opts=opts)
        gcp.compute.RouterNat(
            f"{name}-nat",
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=opts,
        )
    reserved = gcp.compute.GlobalAddress(
        f"{name}-private-services",
        network=vpc.id,
        purpose="VPC_PEERING",
        address_type="INTERNAL",
        prefix_length=20,
        opts=opts,
    )
    peering = gcp.servicenetworking.Connection(
        f"{name}-private-services",
        network=vpc.id,
        service="servicenetworking.googleapis.com",
        reserved_peering_ranges=[reserved.name],
        opts=opts,
    )
    return vpc, subnet, peering


@dataclass(frozen=True)
class GkeClusterArgs:
    kubernetes: Kubernetes
    project: str
    project_number: pulumi.Output[str]
    region: str
    prefix: str
    deletion_protection: bool
    private_cluster: gcp.container.ClusterPrivateClusterConfigArgsDict  # gatekit.clouds.private_access
    authorized_networks: gcp.container.ClusterMasterAuthorizedNetworksConfigArgsDict
    vpc: gcp.compute.Network
    subnet: gcp.compute.Subnetwork


class GkeCluster(Unit):
    """The etcd encryption key, the private GKE cluster, its node service account and pool. `gke`, `pool`,
    `kubeconfig`."""

    def __init__(self, ctx: Ctx, args: GkeClusterArgs) -> None:
        super().__init__("gcp:GkeCluster", ctx, "cluster")
        key, grant = secrets_key(self.ctx, args)
        self.gke, self.pool = cluster(self.ctx, args, key, grant)
        self.kubeconfig = kubeconfig(self.gke)
        self.register_outputs({"cluster": self.gke.name})


def secrets_key(ctx: Ctx, args: GkeClusterArgs) -> tuple[gcp.kms.CryptoKey, pulumi.Resource]:
    """KMS key for GKE application-layer secret encryption (etcd), rotated every 90 days, and the GKE service
    agent's grant on it (the cluster must be created after the grant, or GKE cannot use the key)."""
    suffix = random.RandomId(f"{ctx.name}-keyring-suffix", byte_length=3, opts=ctx.opts)
    ring = gcp.kms.KeyRing(
        f"{ctx.name}-keyring",
        name=pulumi.Output.concat(args.prefix, "-", suffix.hex),
        location=args.region,
        opts=ctx.opts,
    )
    key = gcp.kms.CryptoKey(
        f"{ctx.name}-etcd-key", key_ring=ring.id, rotation_period="7776000s", labels=ctx.labels, opts=ctx.opts
    )
    binding = gcp.kms.CryptoKeyIAMMember(
        f"{ctx.name}-etcd-key-gke",
        crypto_key_id=key.id,
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=args.project_number.apply(
            lambda n: f"serviceAccount:service-{n}@container-engine-robot.iam.gserviceaccount.com"
        ),
        opts=ctx.opts,
    )
    return key, binding


def cluster(
    ctx: Ctx, args: GkeClusterArgs, key: gcp.kms.CryptoKey, key_grant: pulumi.Resource
) -> tuple[gcp.container.Cluster, gcp.container.NodePool]:
    name, opts = ctx.name, ctx.opts
    kube = args.kubernetes
    gke = gcp.container.Cluster(
        f"{name}-gke",
        location=args.region,
        network=args.vpc.id,
        subnetwork=args.subnet.id,
        remove_default_node_pool=True,
        initial_node_count=1,
        min_master_version=kube.version,
        release_channel={"channel": "REGULAR"},
        datapath_provider="ADVANCED_DATAPATH",  # Dataplane V2: enforces NetworkPolicy
        ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
        # Private nodes; the API on a private endpoint or behind authorized networks (gatekit.clouds.private_access).
        private_cluster_config=args.private_cluster,
        master_authorized_networks_config=args.authorized_networks,
        workload_identity_config={"workload_pool": f"{args.project}.svc.id.goog"},
        database_encryption={"state": "ENCRYPTED", "key_name": key.id},
        secret_sync_config={"enabled": True, "rotation_config": {"enabled": True, "rotation_interval": "120s"}},
        enable_shielded_nodes=True,
        deletion_protection=args.deletion_protection,
        resource_labels=ctx.labels,
        opts=ctx.after(key, key_grant),
    )
    nodes = gcp.serviceaccount.Account(
        f"{name}-nodes", account_id=f"{args.prefix}-nodes", display_name="gatekit GKE nodes", opts=opts
    )
    for role in NODE_ROLES:
        gcp.projects.IAMMember(
            f"{name}-nodes-{role.split('/')[-1]}",
            project=args.project,
            role=role,
            member=nodes.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=opts,
        )
    pool = gcp.container.NodePool(
        f"{name}-pool",
        cluster=gke.id,
        location=args.region,
        autoscaling={"total_min_node_count": kube.node_count_min, "total_max_node_count": kube.node_count_max},
        management={"auto_repair": True, "auto_upgrade": True},
        node_config={
            "machine_type": kube.node_machine_type or DEFAULT_MACHINE,
            "service_account": nodes.email,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "resource_labels": ctx.labels,
        },
        opts=opts,
    )
    return gke, pool


def kubeconfig(gke: gcp.container.Cluster) -> pulumi.Output[str]:
    """A kubeconfig that authenticates through gke-gcloud-auth-plugin (no credential is stored)."""

    def build(args: list[Any]) -> str:
        endpoint, ca = args
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "gke", "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca}}
                ],
                "contexts": [{"name": "gke", "context": {"cluster": "gke", "user": "gke"}}],
                "current-context": "gke",
                "users": [
                    {
                        "name": "gke",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": "gke-gcloud-auth-plugin",
                                "provideClusterInfo": True,
                            }
                        },
                    }
                ],
            }
        )

    return pulumi.Output.all(gke.endpoint, gke.master_auth.cluster_ca_certificate).apply(build)


def deploy(env: Environment) -> dict[str, Any]:
    assert env.gcp is not None
    name = env.deployment.prefix
    provider = gcp.Provider(f"{name}-gcp", project=env.gcp.project, region=env.gcp.region)
    base = pulumi.ResourceOptions(provider=provider)
    apis = [
        gcp.projects.Service(f"{name}-api-{api.split('.')[0]}", service=api, disable_on_destroy=False, opts=base)
        for api in APIS
    ]
    ctx = Ctx(
        env=env,
        name=name,
        labels=gcp_labels(env),
        opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=apis)),
    )
    project_number = gcp.organizations.get_project_output(
        project_id=env.gcp.project, opts=pulumi.InvokeOptions(provider=provider)
    ).number
    door = env.gateway.exposure.ingress
    net = GcpNetwork(
        ctx,
        GcpNetworkArgs(
            cidr=env.network.cidr,
            flow_logs=env.network.flow_logs,
            nat=env.network.mode != "isolated",
            proxy_only_cidr=env.gcp.proxy_only_cidr if door is not None and door.class_name == "gce-internal" else None,
        ),
    )
    cluster_unit = GkeCluster(
        ctx,
        GkeClusterArgs(
            kubernetes=env.kubernetes,
            project=env.gcp.project,
            project_number=project_number,
            region=env.gcp.region,
            prefix=env.deployment.prefix,
            deletion_protection=env.database.deletion_protection,
            private_cluster=gke_private_cluster(env, MASTER_RANGE),
            authorized_networks=gke_authorized_networks(env),
            vpc=net.vpc,
            subnet=net.subnet,
        ),
    )
    gke, pool = cluster_unit.gke, cluster_unit.pool
    data = GcpDataServices(
        ctx,
        GcpDataArgs(
            database=env.database,
            cache=env.cache,
            document=config_document(env),
            region=env.gcp.region,
            network=net.vpc,
            peering=net.peering,
        ),
    ).data
    # Workload-identity principals name the cluster's identity pool, which exists once the cluster and its first
    # node pool do: every grant to the gateway's service account waits for the pool.
    wi = ctx.after(gke, pool)

    ns, ksa, project = env.kubernetes.namespace, f"{name}-gateway", env.gcp.project
    principal = project_number.apply(
        lambda n: (
            f"principal://iam.googleapis.com/projects/{n}/locations/global/workloadIdentityPools/"
            f"{project}.svc.id.goog/subject/ns/{ns}/sa/{ksa}"
        )
    )
    gcp.storage.BucketIAMMember(
        f"{name}-config-reader",
        bucket=data.bucket.name,
        role="roles/storage.objectViewer",
        member=principal,
        opts=wi,
    )
    gcp.projects.IAMMember(
        f"{name}-trace-agent", project=env.gcp.project, role="roles/cloudtrace.agent", member=principal, opts=wi
    )
    managed = managed_secret_env(env)
    values = {**operator_secrets(env, managed), **data.managed_secrets}
    versions = GcpSecrets(
        ctx,
        GcpSecretsArgs(
            project=env.gcp.project,
            secret_ids=store_secret_names(env, managed),
            values=values,
            readers=[principal],
            readers_after=(gke, pool),
        ),
    ).versions

    k8s_provider = k8s.Provider(f"{name}-gke", kubeconfig=cluster_unit.kubeconfig, enable_server_side_apply=True)
    # The Service stays ClusterIP: clients reach it only through the TLS Ingress (gateway.exposure.ingress); on the
    # external load balancer, Cloud Armor admits network.allowed_ingress_cidrs only (gatekit.clouds.gcp_armor).
    armor = security_policy(env, ctx.opts)
    gateway = GatewayComponent(
        f"{name}-gateway",
        env,
        GatewayArgs(
            config_source=data.config_uri,
            secret_store=SecretStore(provider="gcp", objects=versions),
            extra_secret_env=managed,
            extra_env={"GOOGLE_CLOUD_PROJECT": env.gcp.project},
            exporter=CollectorExporter.googlecloud(env.gcp.project),
            config_files=data.config_files,
        ),
        provider=k8s_provider,
        opts=pulumi.ResourceOptions(depends_on=[gke, pool, *([armor] if armor else [])]),
    )
    return {
        "cluster": gke.name,
        "config_uri": data.config_uri,
        "namespace": gateway.namespace,
        "service": gateway.service_name,
        "secrets": sorted(versions.values()),
    }
