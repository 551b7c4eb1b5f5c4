"""The cloud-neutral gateway: one Pulumi resource per manifest of `render_gateway_manifests`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gatekit.config import Environment
from gatekit.render.k8s import (
    CollectorExporter,
    Manifest,
    SecretStore,
    ServiceExposure,
    render_gateway_manifests,
)

COMPONENT_TYPE = "gatekit:kubernetes:Gateway"

# (apiVersion, kind) -> typed resource class. Anything else (CRDs such as SecretProviderClass) is a CustomResource.
_TYPED: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def manifest_key(manifest: Manifest) -> str:
    """A manifest's name within one gateway: kind, namespace (or `cluster`) and name."""
    meta = manifest["metadata"]
    return f"{manifest['kind'].lower()}-{meta.get('namespace', 'cluster')}-{meta['name']}"


def manifest_resource(
    manifest: Manifest, opts: pulumi.ResourceOptions, *, owner: str | None = None
) -> pulumi.CustomResource:
    """Create the Pulumi resource for one manifest dict (top-level fields become keyword arguments).

    `owner` (the component's name) prefixes the logical name, so two gateways in one stack never share one; the
    name this resource had before components prefixed their children is kept as an alias (no replacement on
    `up`)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    key = manifest_key(manifest)
    logical = f"{owner}-{key}" if owner else key
    if owner:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=key)]))
    fields = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    cls = _TYPED.get((api_version, kind))
    if cls is None:
        return k8s.apiextensions.CustomResource(logical, api_version=api_version, kind=kind, opts=opts, **fields)
    return cls(logical, opts=opts, **{_snake(k): v for k, v in fields.items()})


@dataclass(frozen=True)
class GatewayArgs:
    """What a cloud program hands the gateway component: the deployment-time inputs of `render_gateway_manifests`
    (see its docstring). Values may be Pulumi Outputs; they are placed verbatim in the manifests."""

    image: pulumi.Input[str] | None = None
    config_source: pulumi.Input[str] | None = None
    secret_store: SecretStore | None = None
    exporter: CollectorExporter | None = None
    service: ServiceExposure | None = None
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, Any])
    pod_labels: Mapping[str, str] = field(default_factory=dict[str, str])
    extra_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, Any])
    extra_secret_env: Sequence[str] = ()
    config_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, Any])
    create_namespace: bool = True

    def manifests(self, env: Environment) -> list[Manifest]:
        return render_gateway_manifests(
            env,
            image=self.image,
            config_source=self.config_source,
            secret_store=self.secret_store,
            exporter=self.exporter,
            service=self.service,
            service_account_annotations=self.service_account_annotations,
            pod_labels=self.pod_labels,
            extra_env=self.extra_env,
            extra_secret_env=self.extra_secret_env,
            config_files=self.config_files,
            create_namespace=self.create_namespace,
        )


class GatewayComponent(pulumi.ComponentResource):
    """The gateway on one Kubernetes cluster: namespace, service account, config, secret wiring, Deployment,
    Service, HPA, PodDisruptionBudget, NetworkPolicy and the OpenTelemetry collector, each a child of this
    component named relative to it."""

    def __init__(
        self,
        name: str,
        env: Environment,
        args: GatewayArgs,
        *,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.resources: dict[str, pulumi.CustomResource] = {}
        namespace: pulumi.CustomResource | None = None
        for manifest in args.manifests(env):
            opts_for = (
                child
                if namespace is None
                else pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
            )
            resource = manifest_resource(manifest, opts_for, owner=name)
            if manifest["kind"] == "Namespace":
                namespace = resource
            self.resources[f"{manifest['kind']}/{manifest['metadata']['name']}"] = resource
        self.namespace = env.kubernetes.namespace
        self.service_name = f"{env.deployment.prefix}-gateway"
        self.register_outputs({"namespace": self.namespace, "service": self.service_name})
