"""GCP: a private GKE cluster with Workload Identity and GKE secret sync, the data services of gcp_data, and the
gateway component with traces to Cloud Trace through the collector."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from gatekit.clouds.common import Ctx, gcp_labels, managed_secret_env, operator_secrets, store_secret_names
from gatekit.clouds.component import GatewayArgs, GatewayComponent
from gatekit.clouds.gcp_armor import security_policy
from gatekit.clouds.gcp_data import data_services, secret_manager
from gatekit.clouds.private_access import gke_authorized_networks, gke_private_cluster
from gatekit.config import Environment
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


def network(ctx: Ctx) -> tuple[gcp.compute.Network, gcp.compute.Subnetwork, pulumi.Resource]:
    """VPC, GKE subnet with pod/service ranges, NAT unless isolated (the nodes are private), private service access
    for SQL and Redis."""
    env, name, opts = ctx.env, ctx.name, ctx.opts
    vpc = gcp.compute.Network(f"{name}-vpc", auto_create_subnetworks=False, opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{name}-nodes",
        network=vpc.id,
        ip_cidr_range=env.network.cidr,
        private_ip_google_access=True,
        secondary_ip_ranges=[
            {"range_name": "pods", "ip_cidr_range": PODS_RANGE},
            {"range_name": "services", "ip_cidr_range": SERVICES_RANGE},
        ],
        log_config={"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5} if env.network.flow_logs else None,
        opts=opts,
    )
    door = env.gateway.exposure.ingress
    if door is not None and door.class_name == "gce-internal" and env.gcp is not None:
        # The internal Application Load Balancer (the gateway's TLS front door) runs its proxies in this subnet.
        gcp.compute.Subnetwork(
            f"{name}-proxy-only",
            network=vpc.id,
            ip_cidr_range=env.gcp.proxy_only_cidr,  # gatekit.config.gcp_ranges
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=opts,
        )
    if env.network.mode != "isolated":  # private nodes have no public IP: NAT is their egress in public mode too
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


def secrets_key(ctx: Ctx, project_number: pulumi.Output[str]) -> tuple[gcp.kms.CryptoKey, pulumi.Resource]:
    """KMS key for GKE application-layer secret encryption (etcd), rotated every 90 days, and the GKE service
    agent's grant on it (the cluster must be created after the grant, or GKE cannot use the key)."""
    suffix = random.RandomId(f"{ctx.name}-keyring-suffix", byte_length=3, opts=ctx.opts)
    ring = gcp.kms.KeyRing(
        f"{ctx.name}-keyring",
        name=pulumi.Output.concat(ctx.env.deployment.prefix, "-", suffix.hex),
        location=ctx.env.gcp.region if ctx.env.gcp else "global",
        opts=ctx.opts,
    )
    key = gcp.kms.CryptoKey(
        f"{ctx.name}-etcd-key", key_ring=ring.id, rotation_period="7776000s", labels=ctx.labels, opts=ctx.opts
    )
    binding = gcp.kms.CryptoKeyIAMMember(
        f"{ctx.name}-etcd-key-gke",
        crypto_key_id=key.id,
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=project_number.apply(
            lambda n: f"serviceAccount:service-{n}@container-engine-robot.iam.gserviceaccount.com"
        ),
        opts=ctx.opts,
    )
    return key, binding


def cluster(
    ctx: Ctx,
    vpc: gcp.compute.Network,
    subnet: gcp.compute.Subnetwork,
    key: gcp.kms.CryptoKey,
    key_grant: pulumi.Resource,
) -> tuple[gcp.container.Cluster, gcp.container.NodePool]:
    env, name, opts = ctx.env, ctx.name, ctx.opts
    assert env.gcp is not None
    kube = env.kubernetes
    gke = gcp.container.Cluster(
        f"{name}-gke",
        location=env.gcp.region,
        network=vpc.id,
        subnetwork=subnet.id,
        remove_default_node_pool=True,
        initial_node_count=1,
        min_master_version=kube.version,
        release_channel={"channel": "REGULAR"},
        datapath_provider="ADVANCED_DATAPATH",  # Dataplane V2: enforces NetworkPolicy
        ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
        # Private nodes; the API on a private endpoint or behind authorized networks (gatekit.clouds.private_access).
        private_cluster_config=gke_private_cluster(env, MASTER_RANGE),
        master_authorized_networks_config=gke_authorized_networks(env),
        workload_identity_config={"workload_pool": f"{env.gcp.project}.svc.id.goog"},
        database_encryption={"state": "ENCRYPTED", "key_name": key.id},
        secret_sync_config={"enabled": True, "rotation_config": {"enabled": True, "rotation_interval": "120s"}},
        enable_shielded_nodes=True,
        deletion_protection=env.database.deletion_protection,
        resource_labels=ctx.labels,
        opts=ctx.after(key, key_grant),
    )
    nodes = gcp.serviceaccount.Account(
        f"{name}-nodes", account_id=f"{env.deployment.prefix}-nodes", display_name="gatekit GKE nodes", opts=opts
    )
    for role in NODE_ROLES:
        gcp.projects.IAMMember(
            f"{name}-nodes-{role.split('/')[-1]}",
            project=env.gcp.project,
            role=role,
            member=nodes.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=opts,
        )
    pool = gcp.container.NodePool(
        f"{name}-pool",
        cluster=gke.id,
        location=env.gcp.region,
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
    vpc, subnet, peering = network(ctx)
    gke, pool = cluster(ctx, vpc, subnet, *secrets_key(ctx, project_number))
    data = data_services(ctx, vpc, peering)
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
    versions = secret_manager(ctx, store_secret_names(env, managed), values, [principal], reader_opts=wi)

    k8s_provider = k8s.Provider(f"{name}-gke", kubeconfig=kubeconfig(gke), enable_server_side_apply=True)
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
