"""The ADOT collector sidecar's configuration: OTLP in from the gateway (127.0.0.1), traces out to X-Ray with the
awsxray exporter, and the gateway's Prometheus counters out as CloudWatch metrics (EMF) for the alarms."""

from __future__ import annotations

from typing import Any

import yaml

from gatekit.config import Environment

METRICS_NAMESPACE = "Gatekit"
# Counters the gateway runtime exposes on /metrics (gatekit.runtime.metrics, Prometheus); the alarms watch them.
SHED_METRIC = "gatekit_shed_requests_total"
RELOAD_FAILURE_METRIC = "gatekit_config_reload_failures_total"
# Requests in flight in the task (summed over its workers); the service's target tracking scales on its average.
IN_FLIGHT_METRIC = "gatekit_in_flight_requests"
DEPLOYMENT_DIMENSION = "Deployment"


def collector_config(env: Environment, emf_log_group: str) -> dict[str, Any]:
    return collector_config_for(env.gateway.port, env.deployment.prefix, emf_log_group)


def collector_config_for(port: int, prefix: str, emf_log_group: str) -> dict[str, Any]:
    """The ADOT sidecar's config: scrape the gateway's /metrics on `port`, EMF under the Deployment=`prefix`
    dimension, traces to X-Ray."""
    return {
        "extensions": {"health_check": {"endpoint": "127.0.0.1:13133"}},
        "receivers": {
            "otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4318"}, "grpc": {"endpoint": "127.0.0.1:4317"}}},
            "prometheus": {
                # Keep the `_total` suffix: the alarms name the counters exactly as the gateway exposes them.
                "trim_metric_suffixes": False,
                "config": {
                    "scrape_configs": [
                        {
                            "job_name": "gatekit",
                            "scrape_interval": "30s",
                            "metrics_path": "/metrics",
                            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                        }
                    ]
                },
            },
        },
        "processors": {
            "batch/traces": {"timeout": "1s", "send_batch_size": 50},
            "batch/metrics": {"timeout": "60s"},
            "resource/deployment": {"attributes": [{"key": DEPLOYMENT_DIMENSION, "value": prefix, "action": "upsert"}]},
        },
        "exporters": {
            "awsxray": {"indexed_attributes": ["gatekit.tier", "gatekit.route"]},
            "awsemf": {
                "namespace": METRICS_NAMESPACE,
                "log_group_name": emf_log_group,
                "log_stream_name": "emf",
                "resource_to_telemetry_conversion": {"enabled": True},
                "dimension_rollup_option": "NoDimensionRollup",
                "metric_declarations": [
                    {
                        "dimensions": [[DEPLOYMENT_DIMENSION]],
                        "metric_name_selectors": [SHED_METRIC, RELOAD_FAILURE_METRIC, IN_FLIGHT_METRIC],
                    }
                ],
            },
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["batch/traces"], "exporters": ["awsxray"]},
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["resource/deployment", "batch/metrics"],
                    "exporters": ["awsemf"],
                },
            },
        },
    }


def collector_config_yaml(port: int, prefix: str, emf_log_group: str) -> str:
    return yaml.safe_dump(collector_config_for(port, prefix, emf_log_group), sort_keys=False)
