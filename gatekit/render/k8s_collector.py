"""The OpenTelemetry collector that runs next to the gateway (a native sidecar) and exports its traces.

The exporter is the deployment target's choice: `googlecloud` (Cloud Trace) on GCP, `azuremonitor` (Application
Insights) on Azure, `awsxray` on EKS, plain `otlphttp` on any cluster. The gateway sends OTLP/HTTP to the sidecar
on 127.0.0.1:4318, so no collector port is ever exposed outside the pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

Manifest = dict[str, Any]

OTLP_HTTP_PORT = 4318
OTLP_GRPC_PORT = 4317
HEALTH_PORT = 13133
COLLECTOR_CONFIG_KEY = "collector.yaml"
COLLECTOR_CONFIG_DIR = "/etc/otelcol"


@dataclass(frozen=True)
class CollectorExporter:
    """One trace exporter. `secret_env` names environment variables the collector reads from the gateway Secret
    (by key), e.g. the Application Insights connection string; values never appear in the manifest."""

    name: str
    config: Mapping[str, Any]
    secret_env: tuple[str, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict[str, str])
    egress_ports: tuple[int, ...] = ()

    @classmethod
    def googlecloud(cls, project: str) -> CollectorExporter:
        """Cloud Trace through Workload Identity (the pod's service account needs roles/cloudtrace.agent)."""
        return cls(name="googlecloud", config={"project": project})

    @classmethod
    def azuremonitor(cls, connection_string_env: str = "APPLICATIONINSIGHTS_CONNECTION_STRING") -> CollectorExporter:
        """Application Insights; the connection string comes from the gateway Secret under `connection_string_env`."""
        return cls(
            name="azuremonitor",
            config={"connection_string": f"${{env:{connection_string_env}}}"},
            secret_env=(connection_string_env,),
        )

    @classmethod
    def awsxray(cls, region: str) -> CollectorExporter:
        """X-Ray through IRSA / EKS Pod Identity (the role needs xray:PutTraceSegments)."""
        return cls(name="awsxray", config={"region": region, "index_all_attributes": False})

    @classmethod
    def otlp(cls, endpoint: str) -> CollectorExporter:
        """Any OTLP/HTTP backend the cluster already runs (Tempo, Jaeger, a central collector)."""
        parts = urlsplit(endpoint)
        port = parts.port or (80 if parts.scheme == "http" else 443)
        return cls(name="otlphttp", config={"endpoint": endpoint}, egress_ports=(port,))


def collector_config(exporter: CollectorExporter, service_name: str) -> dict[str, Any]:
    """The collector pipeline: OTLP in on loopback, memory limit, batch, the chosen exporter. Sampling happens in
    the gateway (OTEL_TRACES_SAMPLER_ARG), so the collector forwards everything it receives."""
    return {
        "extensions": {"health_check": {"endpoint": f"0.0.0.0:{HEALTH_PORT}"}},
        "receivers": {
            "otlp": {
                "protocols": {
                    "http": {"endpoint": f"127.0.0.1:{OTLP_HTTP_PORT}"},
                    "grpc": {"endpoint": f"127.0.0.1:{OTLP_GRPC_PORT}"},
                }
            }
        },
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            "resource": {"attributes": [{"key": "service.name", "value": service_name, "action": "upsert"}]},
            "batch": {"timeout": "5s", "send_batch_size": 512},
        },
        "exporters": {exporter.name: dict(exporter.config)},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"logs": {"level": "info", "encoding": "json"}},
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "resource", "batch"],
                    "exporters": [exporter.name],
                }
            },
        },
    }


def collector_config_map(name: str, meta: Manifest, exporter: CollectorExporter, service: str) -> Manifest:
    text = yaml.safe_dump(collector_config(exporter, service), sort_keys=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {**meta, "name": name},
        "data": {COLLECTOR_CONFIG_KEY: text},
    }


def collector_sidecar(
    *,
    image: str,
    exporter: CollectorExporter,
    secret_env: Mapping[str, Manifest],
    security_context: Manifest,
) -> Manifest:
    """A native sidecar (init container with restartPolicy Always): it starts before the gateway and stops after
    it, so traces of the last drained requests are still exported."""
    env: list[Manifest] = [{"name": k, "value": v} for k, v in sorted(exporter.extra_env.items())]
    env += [{"name": var, "valueFrom": secret_env[var]} for var in exporter.secret_env]
    env.append({"name": "GOMEMLIMIT", "value": "100MiB"})

    def probe(period: int, **more: int) -> Manifest:
        return {"httpGet": {"path": "/", "port": HEALTH_PORT}, "periodSeconds": period, **more}

    return {
        "name": "otel-collector",
        "image": image,
        "restartPolicy": "Always",
        "args": [f"--config=file:{COLLECTOR_CONFIG_DIR}/{COLLECTOR_CONFIG_KEY}"],
        "env": env,
        "ports": [{"name": "otel-health", "containerPort": HEALTH_PORT}],
        "startupProbe": probe(2, failureThreshold=30),
        "livenessProbe": probe(10),
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"},
        },
        "securityContext": security_context,
        "volumeMounts": [{"name": "otel-config", "mountPath": COLLECTOR_CONFIG_DIR, "readOnly": True}],
    }
