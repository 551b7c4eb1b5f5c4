"""The cloud-neutral gateway: one Pulumi resource per manifest of `render_gateway_manifests`."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gatekit.config import Environment
from gatekit.render.k8s import render_gateway_manifests

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


def manifest_resource(manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Create the Pulumi resource for one manifest dict (top-level fields become keyword arguments)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    meta = manifest["metadata"]
    logical = f"{kind.lower()}-{meta.get('namespace', 'cluster')}-{meta['name']}"
    fields = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    cls = _TYPED.get((api_version, kind))
    if cls is None:
        return k8s.apiextensions.CustomResource(logical, api_version=api_version, kind=kind, opts=opts, **fields)
    return cls(logical, opts=opts, **{_snake(k): v for k, v in fields.items()})


class GatewayComponent(pulumi.ComponentResource):
    """The gateway on one Kubernetes cluster: namespace, service account, config, secret wiring, Deployment,
    Service, HPA, PodDisruptionBudget, NetworkPolicy and the OpenTelemetry collector.

    `render` holds the keyword arguments of `render_gateway_manifests` (image, config_source, secret_store,
    exporter, service, service_account_annotations, pod_labels, extra_env, extra_secret_env, create_namespace).
    """

    def __init__(
        self,
        name: str,
        env: Environment,
        *,
        provider: k8s.Provider,
        render: dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        manifests = render_gateway_manifests(env, **(render or {}))
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.resources: dict[str, pulumi.CustomResource] = {}
        namespace: pulumi.CustomResource | None = None
        for manifest in manifests:
            opts_for = (
                child
                if namespace is None
                else pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
            )
            resource = manifest_resource(manifest, opts_for)
            if manifest["kind"] == "Namespace":
                namespace = resource
            self.resources[f"{manifest['kind']}/{manifest['metadata']['name']}"] = resource
        self.namespace = env.kubernetes.namespace
        self.service_name = f"{env.deployment.prefix}-gateway"
        self.register_outputs({"namespace": self.namespace, "service": self.service_name})
