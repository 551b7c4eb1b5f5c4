"""OpenTelemetry with an in-memory exporter: X-Ray ids, X-Ray and W3C continuation, routing span, JSON logs."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatekit.runtime.callbacks import UpstreamSpanLogger
from gatekit.runtime.logs import configure_logging
from gatekit.runtime.middleware import GatekitMiddleware
from gatekit.runtime.telemetry import Telemetry, configure_telemetry, record_route_decision
from tests.conftest import REPO
from tests.runtime.conftest import local_env

XRAY_ROOT_TIME = "5759e988"
XRAY_ROOT = f"1-{XRAY_ROOT_TIME}-bd862e3fe1be46a994272793"
XRAY_PARENT = "53995c3f42cd8ad8"


async def routed(request: Request) -> Response:
    record_route_decision("knn", ["economy", "premium"], "premium", score=0.87, latency_ms=1.5)
    return JSONResponse({"ok": True})


@pytest.fixture
def traced(make_state: Any) -> tuple[Telemetry, InMemorySpanExporter, GatekitMiddleware, io.StringIO]:
    env = local_env(["observability.xray=true", "observability.traces_sample_ratio=1.0"])
    exporter = InMemorySpanExporter()
    telemetry = configure_telemetry(env, exporter=exporter, set_global=False)
    logs = io.StringIO()
    configure_logging("INFO", stream=logs)
    app = GatekitMiddleware(Starlette(routes=[Route("/route", routed)]), make_state(), telemetry, master_key="k")
    return telemetry, exporter, app, logs


def request(app: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            return await client.get("/route", headers=headers or {})

    return asyncio.run(go())


def spans(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def test_new_traces_get_xray_ids_whose_first_32_bits_are_epoch_seconds(traced: Any) -> None:
    _, exporter, app, _ = traced
    response = request(app)
    (span,) = spans(exporter, "gatekit.request")
    trace_id = format(span.context.trace_id, "032x")
    assert abs(int(trace_id[:8], 16) - time.time()) < 120
    assert response.headers["x-gatekit-trace-id"] == trace_id
    assert response.headers["x-amzn-trace-id"].startswith(f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent=")


def test_an_incoming_xray_header_is_continued(traced: Any) -> None:
    _, exporter, app, _ = traced
    response = request(app, {"X-Amzn-Trace-Id": f"Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=1"})
    (span,) = spans(exporter, "gatekit.request")
    assert format(span.context.trace_id, "032x") == XRAY_ROOT.replace("1-", "", 1).replace("-", "")
    assert span.parent is not None and format(span.parent.span_id, "016x") == XRAY_PARENT
    assert response.headers["x-amzn-trace-id"].startswith(f"Root={XRAY_ROOT};")


def test_an_incoming_traceparent_is_continued(traced: Any) -> None:
    _, exporter, app, _ = traced
    trace_id, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    response = request(app, {"traceparent": f"00-{trace_id}-{parent}-01"})
    (span,) = spans(exporter, "gatekit.request")
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None and format(span.parent.span_id, "016x") == parent
    assert response.headers["x-gatekit-trace-id"] == trace_id


def test_the_routing_span_has_its_attributes_under_the_request_span(traced: Any) -> None:
    _, exporter, app, _ = traced
    request(app)
    (req,) = spans(exporter, "gatekit.request")
    (route,) = spans(exporter, "gatekit.route")
    assert route.context.trace_id == req.context.trace_id
    assert route.parent is not None and route.parent.span_id == req.context.span_id
    attrs = dict(route.attributes or {})
    assert attrs["gatekit.route.strategy"] == "knn"
    assert list(attrs["gatekit.route.candidates"]) == ["economy", "premium"]
    assert attrs["gatekit.route.selected"] == "premium"
    assert attrs["gatekit.route.score"] == pytest.approx(0.87)
    assert attrs["gatekit.route.latency_ms"] == pytest.approx(1.5)
    assert route.end_time - route.start_time == pytest.approx(1_500_000, abs=1000)


def test_log_lines_carry_the_trace_id(traced: Any) -> None:
    _, exporter, app, logs = traced
    request(app)
    (span,) = spans(exporter, "gatekit.request")
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    request_lines = [line for line in lines if line["message"] == "request"]
    assert request_lines, logs.getvalue()
    assert request_lines[-1]["trace_id"] == format(span.context.trace_id, "032x")
    assert request_lines[-1]["span_id"] == format(span.context.span_id, "016x")
    assert request_lines[-1]["status"] == 200


def test_upstream_calls_become_client_spans(traced: Any) -> None:
    _, exporter, _, _ = traced
    end = datetime.now(UTC)
    kwargs = {
        "model": "openai/demo-economy",
        "litellm_params": {
            "custom_llm_provider": "openai",
            "model_info": {"id": "economy/demo-economy"},
            "metadata": {"model_group": "economy"},
        },
    }
    asyncio.run(UpstreamSpanLogger().async_log_success_event(kwargs, None, end - timedelta(milliseconds=40), end))
    (span,) = spans(exporter, "gatekit.upstream")
    attrs = dict(span.attributes or {})
    assert attrs == {
        "gen_ai.request.model": "economy",
        "gatekit.upstream.deployment": "economy/demo-economy",
        "gen_ai.system": "openai",
    }
    assert span.end_time - span.start_time == pytest.approx(40_000_000, abs=10_000)


LITELLM_ADOPTS_OUR_PROVIDER = """
import json, os
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from gatekit.config import default_config_dir, load_environment
from gatekit.runtime.telemetry import configure_telemetry

env = load_environment("local", default_config_dir(), ["observability.xray=true"])
exporter = InMemorySpanExporter()
configure_telemetry(env, exporter=exporter)  # before LiteLLM creates its callback, as run_app does
from litellm.integrations.opentelemetry import OpenTelemetry

span = OpenTelemetry().tracer.start_span("litellm_request")
span.end()
(exported,) = exporter.get_finished_spans()
print(json.dumps({"name": exported.name, "trace_id": format(exported.context.trace_id, "032x")}))
"""


def test_litellms_otel_callback_adopts_the_gatekit_provider() -> None:
    """LiteLLM's `otel` callback reuses a global SDK provider: its spans get X-Ray ids and gatekit's exporters."""
    result = subprocess.run(
        [sys.executable, "-c", LITELLM_ADOPTS_OUR_PROVIDER], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    exported = json.loads(result.stdout.strip().splitlines()[-1])
    assert exported["name"] == "litellm_request"
    assert abs(int(exported["trace_id"][:8], 16) - time.time()) < 300
