"""Any existing Kubernetes cluster: the gateway component only. Postgres and Redis are brought by the operator as
Kubernetes Secrets the config references (`database.url`, `cache.url`); traces go to the cluster's own OTLP
backend (`observability.collector_export_endpoint`)."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s

from gatekit.clouds.component import GatewayArgs, GatewayComponent
from gatekit.config import Environment
from gatekit.render.k8s import CollectorExporter


def deploy(env: Environment) -> dict[str, Any]:
    name = env.deployment.prefix
    # No kubeconfig context configured: the current context of the operator's kubeconfig.
    provider = k8s.Provider(f"{name}-cluster", context=env.kubernetes.context, enable_server_side_apply=True)
    endpoint = env.observability.collector_export_endpoint
    gateway = GatewayComponent(
        f"{name}-gateway",
        env,
        # The operator creates the namespace first (its Secrets live there: docs/pulumi.md); the stack never owns it.
        GatewayArgs(exporter=CollectorExporter.otlp(endpoint) if endpoint else None, create_namespace=False),
        provider=provider,
    )
    return {"namespace": gateway.namespace, "service": gateway.service_name}
