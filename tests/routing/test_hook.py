"""The LiteLLM integration: rendered config, the callback LiteLLM loads, alias rewrite, headers, span, readiness."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml
from fastapi import HTTPException
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gatekit.config import default_config_dir, load_environment
from gatekit.render.litellm import render_litellm_config
from gatekit.routing import status
from gatekit.routing.engine import RoutingEngine
from gatekit.routing.litellm_hook import MLRoutingHook
from gatekit.routing.render import CALLBACK
from gatekit.routing.spec import SPEC_KEY, RoutingSpec
from tests.routing.conftest import spec_with

KEY = SimpleNamespace(key_alias=None, team_alias=None, team_id=None)


def _env(*overrides: str):
    return load_environment("local", default_config_dir(), list(overrides))


def test_render_adds_callback_and_spec_only_when_enabled():
    off = render_litellm_config(_env("gateway.routing.ml.enabled=false"))
    assert SPEC_KEY not in off and CALLBACK not in off["litellm_settings"].get("callbacks", [])
    on = render_litellm_config(_env("gateway.routing.ml.enabled=true", "gateway.routing.ml.strategy=svm"))
    assert on["litellm_settings"]["callbacks"].count(CALLBACK) == 1
    spec = RoutingSpec.from_dict(yaml.safe_load(yaml.safe_dump(on))[SPEC_KEY])  # survives the YAML file
    assert spec.strategy == "svm" and spec.alias == "auto" and spec.tier_names == ["economy", "premium"]


def _litellm_loads_callback(tmp_path, *overrides: str) -> subprocess.CompletedProcess[str]:
    """Exactly what the proxy does with `litellm_settings.callbacks` at startup (get_instance_fn)."""
    path = tmp_path / "litellm.yaml"
    path.write_text(yaml.safe_dump(render_litellm_config(_env("gateway.routing.ml.enabled=true", *overrides))))
    code = (
        "from litellm.proxy.types_utils.utils import get_instance_fn\n"
        "from gatekit.routing.status import routing_status\n"
        f"cb = get_instance_fn({CALLBACK!r}, config_file_path={str(path)!r})\n"
        "print(type(cb).__name__, routing_status()['ready'], routing_status()['artifact_version'])\n"
    )
    env = {"CONFIG_FILE_PATH": str(path), "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": ""}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )


def test_litellm_loads_the_callback_from_the_installed_package(tmp_path):
    done = _litellm_loads_callback(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    name, ready, version = done.stdout.split()
    assert name == "MLRoutingHook" and ready == "True" and len(version) == 16


def test_fail_startup_stops_the_callback_from_loading(tmp_path):
    done = _litellm_loads_callback(tmp_path, f"gateway.routing.ml.artifact_uri={tmp_path / 'absent'}")
    assert done.returncode != 0
    assert "ArtifactError" in done.stderr and "does not exist" in done.stderr


@pytest.fixture()
def hook(spec):
    engine = RoutingEngine(spec)
    engine.load()
    status.set_active(engine)
    yield MLRoutingHook(engine)
    status.set_active(None)


def _call(hook, data):
    return asyncio.run(hook.async_pre_call_hook(KEY, None, data, "acompletion"))


def test_pre_call_hook_rewrites_the_alias_and_sets_headers(hook):
    from gatekit.routing.observers import add_decision_observer, remove_decision_observer
    from gatekit.runtime import telemetry

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    original = telemetry._tracer
    telemetry._tracer = lambda: tracer
    add_decision_observer(telemetry.route_span)  # what the runtime's build_app registers
    try:
        data = _call(hook, {"model": "auto", "messages": [{"role": "user", "content": "thanks!"}]})
    finally:
        telemetry._tracer = original
        remove_decision_observer(telemetry.route_span)
    assert data["model"] == "economy"
    route = data["metadata"]["gatekit_route"]
    assert route["strategy"] == "knn" and route["profile"] == "balanced"
    [span] = exporter.get_finished_spans()
    assert span.name == "gatekit.route"
    assert span.attributes["gatekit.route.strategy"] == "knn"
    assert span.attributes["gatekit.route.selected"] == "economy"
    assert list(span.attributes["gatekit.route.candidates"]) == ["economy", "premium"]
    assert span.attributes["gatekit.route.artifact"] == status.artifact_version()
    assert "gatekit.route.score" in span.attributes and "gatekit.route.latency_ms" in span.attributes
    headers = asyncio.run(
        hook.async_post_call_response_headers_hook(data, KEY, None, None, {"model_info": {"gatekit_deployment": "m1"}})
    )
    assert headers["x-gatekit-route-strategy"] == "knn"
    assert headers["x-gatekit-route-model"] == "m1"
    assert float(headers["x-gatekit-route-score"]) == route["score"]


def test_other_models_pass_through_untouched(hook):
    data = {"model": "premium", "messages": [{"role": "user", "content": "hi"}]}
    assert _call(hook, dict(data)) == data
    assert asyncio.run(hook.async_post_call_response_headers_hook(data, KEY, None)) is None


def test_profile_from_header_and_key_default(spec):
    engine = RoutingEngine(spec_with(spec, key_profiles={"nightly": "eco"}))
    engine.load()
    hook = MLRoutingHook(engine)
    msg = {"messages": [{"role": "user", "content": "hello"}]}
    by_header = _call(
        hook, {"model": "auto", **msg, "proxy_server_request": {"headers": {"X-Gatekit-Route-Profile": "precision"}}}
    )
    assert by_header["metadata"]["gatekit_route"]["profile"] == "precision"
    by_key = asyncio.run(hook.async_pre_call_hook(SimpleNamespace(key_alias="nightly", team_alias=None, team_id=None),
                                                  None, {"model": "auto", **msg}, "acompletion"))  # fmt: skip
    assert by_key["metadata"]["gatekit_route"]["profile"] == "eco"
    with pytest.raises(HTTPException) as err:
        _call(hook, {"model": "auto", **msg, "metadata": {"gatekit_route_profile": "max"}})
    assert err.value.status_code == 400


def test_unloaded_router_answers_503_not_a_guess(spec, tmp_path):
    engine = RoutingEngine(spec_with(spec, artifact_uri=str(tmp_path / "none"), on_load_failure="not-ready"))
    engine.load()
    with pytest.raises(HTTPException) as err:
        _call(MLRoutingHook(engine), {"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    assert err.value.status_code == 503 and "not loaded" in err.value.detail
