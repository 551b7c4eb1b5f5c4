"""Incident triage: the CloudWatch Logs Insights query and the X-Ray filter expression for each symptom, run against
the deployment's gateway log group and traces.

The log fields are the gateway runtime's JSON lines (gatekit/runtime/logs.py, middleware.py): `message` "request"
with `status`, `duration_ms`, `path`, `trace_id`; "draining"; "config sync: …". X-Ray annotations are the
attributes the ADOT collector indexes (`gatekit.route`, `gatekit.tier`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gatekit.ops.discovery import Deployment
from gatekit.ops.errors import OpsError


@dataclass(frozen=True)
class Symptom:
    description: str
    logs_query: str
    xray_filter: str


SYMPTOMS: dict[str, Symptom] = {
    "latency": Symptom(
        "high latency: slowest routes, p50/p99 per path in 5-minute bins",
        "fields @timestamp, path, status, duration_ms, trace_id\n"
        '| filter message = "request"\n'
        "| stats count(*) as requests, pct(duration_ms, 50) as p50_ms, pct(duration_ms, 99) as p99_ms"
        " by bin(5m), path\n"
        "| sort p99_ms desc\n"
        "| limit 50",
        'service("{service}") AND responsetime > 5',
    ),
    "5xx": Symptom(
        "5xx: failing requests with their trace ids (open them in X-Ray)",
        "fields @timestamp, path, status, duration_ms, trace_id\n"
        '| filter message = "request" and status >= 500\n'
        "| sort @timestamp desc\n"
        "| limit 50",
        'service("{service}") AND (fault = true OR http.status >= 500)',
    ),
    "shedding": Symptom(
        "shedding: 503s from backpressure (in-flight limit) and draining replicas, per minute",
        "fields @timestamp, message, status, path\n"
        '| filter (message = "request" and status = 503) or message like /draining|overloaded/\n'
        "| stats count(*) as events by bin(1m), message\n"
        "| sort @timestamp desc\n"
        "| limit 100",
        'service("{service}") AND http.status = 503',
    ),
    "routing": Symptom(
        "routing degraded: upstream failures, cooldowns and fallbacks by model, and rejected config reloads",
        "fields @timestamp, level, message, model, version, error\n"
        "| filter level in ['ERROR', 'WARNING'] and (message like /fallback|cooldown|upstream|route|config sync/)\n"
        "| sort @timestamp desc\n"
        "| limit 100",
        'service("{service}") AND (error = true OR fault = true OR responsetime > 10)',
    ),
}


def service_name(deployment: Deployment) -> str:
    return f"{deployment.prefix}-gateway"


def run_logs_query(deployment: Deployment, symptom: Symptom, since: timedelta, timeout: float) -> list[dict[str, str]]:
    logs = deployment.aws.client("logs")
    end = datetime.now(UTC)
    query_id = logs.start_query(
        logGroupName=deployment.log_group(),
        startTime=int((end - since).timestamp()),
        endTime=int(end.timestamp()),
        queryString=symptom.logs_query,
    )["queryId"]
    deadline = time.monotonic() + timeout
    while True:
        result = logs.get_query_results(queryId=query_id)
        if result.get("status") in ("Complete", "Failed", "Cancelled", "Timeout"):
            break
        if time.monotonic() >= deadline:
            raise OpsError(f"Logs Insights query {query_id} still `{result.get('status')}` after {timeout:.0f} s", 2)
        time.sleep(1)
    if result.get("status") != "Complete":
        raise OpsError(f"Logs Insights query {query_id} ended `{result.get('status')}`")
    return [{f["field"]: f["value"] for f in row if not f["field"].startswith("@ptr")} for row in result["results"]]


def run_xray(deployment: Deployment, symptom: Symptom, since: timedelta) -> list[dict[str, Any]]:
    end = datetime.now(UTC)
    expression = symptom.xray_filter.format(service=service_name(deployment))
    pages = deployment.aws.client("xray").pages(
        "get_trace_summaries", StartTime=end - since, EndTime=end, FilterExpression=expression, Sampling=False
    )
    return [summary for page in pages for summary in page.get("TraceSummaries", [])]
