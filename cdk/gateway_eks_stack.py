"""Gateway on EKS (target aws-eks): a private cluster with a managed node group, EKS Pod Identity for the gateway's
service account, the Secrets Store CSI driver (AWS provider) filling the gateway Secret from Secrets Manager, and the
gateway manifests (Deployment, Service, HPA, PDB, NetworkPolicy, collector sidecar exporting to X-Ray) rendered by
the shared Kubernetes renderer `gatekit.render.k8s` and applied with `cluster.add_manifest`."""

from __future__ import annotations

from typing import Unpack

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk.lambda_layer_kubectl_v33 import KubectlV33Layer
from constructs import Construct

from cdk.architecture import node_ami_type, node_instance_type
from cdk.config_stack import grant_read_config
from cdk.database import RUNTIME_USER
from cdk.existing_cluster import (
    creates_namespace,
    existing_cluster,
    import_cluster,
    service_account_annotations,
    uses_pod_identity,
    workload_principal,
)
from cdk.existing_data import grant_existing_secret_keys
from cdk.existing_data_rules import admit_to_existing_stores
from cdk.gateway_ecs_stack import database_ca, database_environment, grant_decrypt_via_secrets_manager
from cdk.gateway_task import bedrock_statement, xray_statement
from cdk.images import gateway_image_tag
from cdk.load_balancer import gateway_certificate
from cdk.network_stack import CACHE_PORT, DB_PORT, existing_stores
from cdk.policy import suppress_nag
from cdk.props import GatewayEksProps
from cdk.secrets_stack import COMPLETE_ARN, SynthError
from cdk.shared import StackOptions, as_interface, basics_of, encryption_key, service_principal
from gatekit.config import Environment
from gatekit.render.k8s import CollectorExporter, SecretStore, ServiceExposure, render_gateway_manifests

KUBECTL_VERSION = "1.33"
DEFAULT_NODE_TYPE = "m7i.large"
# EKS add-ons: Pod Identity credentials, the CSI driver's AWS provider, HPA metrics, NetworkPolicy enforcement.
ADDONS: dict[str, str | None] = {
    "eks-pod-identity-agent": None,
    # The driver only creates the gateway Secret from the SecretProviderClass's secretObjects (what the pods' env
    # reads) with syncSecret on; its chart default is off, which leaves the pods without their secrets.
    "aws-secrets-store-csi-driver-provider": '{"secrets-store-csi-driver": {"syncSecret": {"enabled": true}}}',
    "metrics-server": None,
    "vpc-cni": '{"enableNetworkPolicy": "true"}',
    # Container logs and Container Insights (CloudWatch agent + Fluent Bit).
    "amazon-cloudwatch-observability": None,
}
INTERNAL_NLB = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}
NLB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"  # TLS 1.3 and 1.2 only, as the ALB's
TLS_PORT = 443  # the NLB terminates TLS with the domain's certificate; nothing listens in plaintext (issue 12)


def tls_nlb_annotations(certificate_arn: str) -> dict[str, str]:
    """An internal NLB whose only listener is TLS on 443 with the domain's ACM certificate (TLS 1.3/1.2 policy)."""
    return {
        **INTERNAL_NLB,
        "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": certificate_arn,
        "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": str(TLS_PORT),
        "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": NLB_TLS_POLICY,
    }


class GatewayEksStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: GatewayEksProps,
        **kwargs: Unpack[StackOptions],
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.props = props
        env = self.env_config = props.model
        if env.kubernetes.version != KUBECTL_VERSION:
            raise SynthError(
                f"kubernetes.version {env.kubernetes.version}: the CDK EKS stack ships kubectl {KUBECTL_VERSION}"
            )
        existing = existing_cluster(env)  # estate (issue 18): an existing cluster, imported without lookups
        if existing is not None:
            subnets = props.vpc.select_subnets(subnet_group_name=props.app_subnets.subnet_group_name).subnet_ids
            self.cluster: eks.ICluster = import_cluster(self, env, vpc=props.vpc, private_subnet_ids=subnets)
            self.pods_security_group_id = existing.security_group_id
            depends_on: list[Construct] = []
        else:
            depends_on = self._create_cluster(env)
        self._admit_nodes()
        service_account = f"{env.deployment.prefix}-gateway"
        role = self._workload_role(env, service_account)
        if uses_pod_identity(env):
            depends_on.append(
                eks.CfnPodIdentityAssociation(
                    self,
                    "GatewayPodIdentity",
                    cluster_name=self.cluster.cluster_name,
                    namespace=env.kubernetes.namespace,
                    service_account=service_account,
                    role_arn=role.role_arn,
                )
            )
        manifest = self.cluster.add_manifest("Gateway", *self._manifests(env, as_interface(role, iam.IRole)))
        for dependency in depends_on:
            manifest.node.add_dependency(dependency)
        self._exemptions(role)
        CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)
        CfnOutput(self, "GatewayServiceAccount", value=f"{env.kubernetes.namespace}/{service_account}")

    def _create_cluster(self, env: Environment) -> list[Construct]:
        """A private cluster with a managed node group and the add-ons the gateway needs; returns what the gateway
        manifests must wait for."""
        cluster = eks.Cluster(
            self,
            "Cluster",
            version=eks.KubernetesVersion.of(env.kubernetes.version),
            kubectl_layer=KubectlV33Layer(self, "KubectlLayer"),
            vpc=self.props.vpc,
            vpc_subnets=[self.props.app_subnets],
            default_capacity=0,
            endpoint_access=eks.EndpointAccess.PRIVATE,
            secrets_encryption_key=encryption_key(
                self, "ClusterKey", basics_of(env), "EKS secrets envelope encryption"
            ),
            cluster_logging=[
                eks.ClusterLoggingTypes.API,
                eks.ClusterLoggingTypes.AUDIT,
                eks.ClusterLoggingTypes.AUTHENTICATOR,
                eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
                eks.ClusterLoggingTypes.SCHEDULER,
            ],
            authentication_mode=eks.AuthenticationMode.API_AND_CONFIG_MAP,
        )
        self.cluster = as_interface(cluster, eks.ICluster)
        self.pods_security_group_id = cluster.cluster_security_group_id
        cluster.cluster_security_group.add_ingress_rule(
            self.props.security_groups.service, ec2.Port.tcp(443), "Gateway nodes to the API server"
        )
        self.nodes = cluster.add_nodegroup_capacity(
            "Nodes",
            instance_types=[node_instance_type(env)],  # compute.architecture (cdk/architecture.py)
            ami_type=node_ami_type(env),  # Amazon Linux 2023 (AL2 has no EKS AMI for Kubernetes 1.33+)
            min_size=env.kubernetes.node_count_min,
            desired_size=env.kubernetes.node_count_min,
            max_size=env.kubernetes.node_count_max,
            subnets=self.props.app_subnets,
        )
        self.nodes.role.add_managed_policy(
            iam.ManagedPolicy.from_aws_managed_policy_name("CloudWatchAgentServerPolicy")
        )
        addons = [
            eks.CfnAddon(
                self,
                f"Addon-{name}",
                cluster_name=self.cluster.cluster_name,
                addon_name=name,
                configuration_values=values,
                resolve_conflicts="OVERWRITE",
            )
            for name, values in ADDONS.items()
        ]
        return [*addons, self.nodes]

    def _secret_objects(self) -> dict[str, str]:
        objects: dict[str, str] = {}
        for item in self.props.injected:
            if item.ref.key is not None:
                raise SynthError(f"secret `{item.ref.describe()}`: JSON keys are not supported on aws-eks")
            objects[item.env_var] = self._arn(item.locator)
        if self.props.cache is not None:
            objects["REDIS_PASSWORD"] = self._arn(self.props.cache.auth_secret_locator)
        return objects

    def _admit_nodes(self) -> None:
        """Pods run with the cluster security group (managed nodes without a launch template): the database and cache
        security groups (network stack) must admit it. The rules live here, so the network stack does not refer to
        this stack. Existing stores (issue 18) admit the pods on the groups the estate gives."""
        env = self.env_config
        admit_to_existing_stores(
            self, existing_stores(env), env.deployment.prefix, self.pods_security_group_id, source="EKS gateway pods"
        )
        groups = self.props.security_groups
        database, cache = self.props.database, self.props.cache
        rules: list[tuple[str, ec2.ISecurityGroup, int, str]] = []
        if database is not None and database.created:
            rules.append(("DatabaseFromNodes", groups.database, DB_PORT, "EKS gateway pods to the database"))
        if cache is not None and cache.created:
            rules.append(("CacheFromNodes", groups.cache, CACHE_PORT, "EKS gateway pods to the cache"))
        for cid, group, port, description in rules:
            ec2.CfnSecurityGroupIngress(
                self,
                cid,
                group_id=group.security_group_id,
                source_security_group_id=self.pods_security_group_id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
            )

    def _policy_arns(self) -> set[str]:
        """IAM resources of the injected secrets: a partial ARN matches only with Secrets Manager's random
        6-character suffix appended."""
        locators = [item.locator for item in self.props.injected]
        if self.props.cache is not None:
            locators.append(self.props.cache.auth_secret_locator)
        out: set[str] = set()
        for locator in locators:
            complete = locator.startswith("arn:") and COMPLETE_ARN.search(locator)
            out.add(self._arn(locator) if complete else f"{self._arn(locator)}-??????")
        return out

    def _arn(self, locator: str) -> str:
        """A secret's ARN without a cross-stack reference (fixed names get the partial ARN Secrets Manager accepts)."""
        if locator.startswith("arn:"):
            return locator
        return self.format_arn(
            service="secretsmanager", resource="secret", resource_name=locator, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )

    def _manifests(self, env: Environment, role: iam.IRole) -> list[dict[str, object]]:
        database, cache, config = self.props.database, self.props.cache, self.props.config
        extra_env: dict[str, str] = {"AWS_REGION_NAME": self.region}
        if database is not None:
            extra_env.update(database_environment(database, database_ca(env)))
            # No migrations task on EKS: the runtime user may create the schema, so LiteLLM migrates at start-up.
            extra_env.update({"IAM_TOKEN_DB_AUTH": "True", "DATABASE_USER": RUNTIME_USER})
        if cache is not None:
            extra_env.update({"REDIS_HOST": cache.host, "REDIS_PORT": str(cache.port)})
        image = env.compute.image or config.repository.repository_uri_for_tag(gateway_image_tag())
        return render_gateway_manifests(
            env,
            image=image,
            config_source=config.config_uri,
            secret_store=SecretStore(
                provider="aws",
                objects=self._secret_objects(),
                # IRSA (an existing cluster's OIDC provider) is the AWS provider's default; Pod Identity is asked for.
                parameters={"region": self.region, **({"usePodIdentity": "true"} if uses_pod_identity(env) else {})},
            ),
            service_account_annotations=service_account_annotations(env, role),
            create_namespace=creates_namespace(env),
            extra_env=extra_env,
            extra_secret_env=["REDIS_PASSWORD"] if cache is not None else [],
            exporter=CollectorExporter.awsxray(self.region),
            service=ServiceExposure(
                type="LoadBalancer", port=TLS_PORT, annotations=tls_nlb_annotations(self._certificate_arn(env))
            ),
        )

    def _certificate_arn(self, env: Environment) -> str:
        """The certificate of `domain.name` (cdk.load_balancer.gateway_certificate); clients use that name."""
        domain = env.domain
        if domain is None:
            raise SynthError(f"environment `{env.name}`: the gateway's NLB serves TLS only: set `domain`")
        zone = (
            route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.name.split(".", 1)[1]
            )
            if domain.hosted_zone_id
            else None
        )
        return gateway_certificate(self, env.name, domain, zone).certificate_arn

    def _workload_role(self, env: Environment, service_account: str) -> iam.Role:
        props = self.props
        pod_identity = uses_pod_identity(env)
        role = iam.Role(
            self,
            "GatewayRole",
            assumed_by=workload_principal(env, service_account),  # Pod Identity, or IRSA in an existing cluster
            description=f"{env.deployment.prefix}: gateway pods ({'EKS Pod Identity' if pod_identity else 'IRSA'})",
        )
        assert role.assume_role_policy is not None
        if pod_identity:
            role.assume_role_policy.add_statements(
                iam.PolicyStatement(
                    actions=["sts:TagSession"], principals=[service_principal("pods.eks.amazonaws.com")]
                )
            )
        grant_read_config(props.config.bucket, role)
        role.add_to_principal_policy(xray_statement())
        bedrock = bedrock_statement(env.gateway.models, self)
        if bedrock is not None:
            role.add_to_principal_policy(bedrock)
        if props.database is not None:
            props.database.grant_connect(role)
        arns = sorted(self._policy_arns())
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources=arns
            )
        )
        grantee = as_interface(role, iam.IRole)
        grant_decrypt_via_secrets_manager(grantee, [props.secrets_key, props.data_key])
        grant_existing_secret_keys(grantee, [props.cache])  # estate (issue 18): an existing cache's secret key
        return role

    def _exemptions(self, role: iam.Role) -> None:
        policy = role.node.try_find_child("DefaultPolicy")
        assert policy is not None
        suppress_nag(
            policy,
            "AwsSolutions-IAM5",
            "X-Ray has no resource-level permissions (Resource *); the S3 read is limited to the config and router "
            "prefixes; cross-region Bedrock inference profiles route to the foundation model in any region.",
        )
