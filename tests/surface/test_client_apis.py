"""Every client API people point at a gateway, through the real proxy exactly as `make up` runs it (the session's
shared `local_gateway`: `gatekit up`, env `local`, the demo provider serving both tiers). The SDK flows themselves
(tests/surface/sdk_flows.py) also run through a rehearsed cloud target (tests/rehearse/client_sdks.py)."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from gatekit.config import load_environment
from gatekit.demo.extras import FAULTS_PATH
from tests.conftest import GatewayHandle
from tests.surface import sdk_flows
from tests.surface.sdk_flows import SdkGateway, fresh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gw(local_gateway: GatewayHandle) -> SdkGateway:
    """`make up`'s gateway as the SDK flows see it: the tiers by name, both served by the demo provider."""
    return SdkGateway(
        base_url=local_gateway.url,
        key=local_gateway.key,
        chat="economy",
        premium="premium",
        embedding="demo-embedding",
        answers=sdk_flows.upstream_names(load_environment("local")),
        demo_url=f"http://127.0.0.1:{local_gateway.demo_port}",
    )


@pytest.fixture
def oai(local_gateway: GatewayHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=local_gateway.url + "/v1", api_key=local_gateway.key, max_retries=0, timeout=120)


@pytest.fixture
def claude(local_gateway: GatewayHandle) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=local_gateway.url, api_key=local_gateway.key, max_retries=0, timeout=120)


@pytest.fixture
def faults(local_gateway: GatewayHandle) -> Iterator[httpx.Client]:
    """The demo provider's fault-injection endpoint; every rule is cleared afterwards (the gateway is shared)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{local_gateway.demo_port}", timeout=30) as client:
        yield client
        client.delete(FAULTS_PATH).raise_for_status()


def test_openai_chat_tool_call_round_trip(gw: SdkGateway) -> None:
    assert sdk_flows.openai_chat_tool_round_trip(gw)["served_by"] == "demo-economy"


def test_openai_completions(gw: SdkGateway) -> None:
    assert sdk_flows.openai_completions(gw)["served_by"] == "demo-economy"


def test_openai_responses(gw: SdkGateway) -> None:
    evidence = sdk_flows.openai_responses(gw)
    assert (evidence["served_by"], evidence["streamed_by"]) == ("demo-economy", "demo-premium")


def test_openai_embeddings(gw: SdkGateway) -> None:
    assert sdk_flows.openai_embeddings(gw)["vectors"] == 2


@pytest.mark.parametrize("tier", ["economy", "premium"])
def test_anthropic_messages(gw: SdkGateway, tier: str) -> None:
    assert sdk_flows.anthropic_messages(gw, tier)["served_by"] == f"demo-{tier}"


def test_anthropic_messages_streaming(gw: SdkGateway) -> None:
    assert sdk_flows.anthropic_messages_streaming(gw)["served_by"] == "demo-economy"


def test_anthropic_tool_use_round_trip(gw: SdkGateway) -> None:
    assert sdk_flows.anthropic_tool_use_round_trip(gw)["tool_use"] == "get_weather"


def test_anthropic_tool_use_streaming(gw: SdkGateway) -> None:
    assert sdk_flows.anthropic_tool_use_streaming(gw)["tool_use"] == "get_weather"


def test_auto_is_listed(local_gateway: GatewayHandle) -> None:
    r = httpx.get(local_gateway.url + "/v1/models", headers={"Authorization": f"Bearer {local_gateway.key}"})
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert "auto" in ids and {"economy", "premium"} <= set(ids)
    assert ids.count("auto") == 1


@pytest.mark.parametrize("route", ["/v1/completions", "/v1/embeddings"])
def test_a_404_on_an_unsupported_route_does_not_cool_the_tier_down(gw: SdkGateway, route: str) -> None:
    """economy is one deployment with a fallback to premium: a cooldown would show as premium serving economy."""
    evidence = sdk_flows.not_found_keeps_serving(gw, "economy", route)
    assert (evidence["unsupported_route_status"], evidence["calls_until_every_upstream_404ed"]) == (404, 1)
    assert evidence["then_served_by"] == ["demo-economy"] * sdk_flows.CHATS_AFTER_404


def test_a_fallback_to_another_tier_says_so(oai: openai.OpenAI, faults: httpx.Client) -> None:
    rule = {"path": "/v1/chat/completions", "status": 404, "model": "demo-economy", "times": 1}
    faults.put(FAULTS_PATH, json=[rule]).raise_for_status()
    chat = oai.chat.completions.with_raw_response
    raw = chat.create(model="economy", messages=[{"role": "user", "content": fresh()}])
    assert raw.headers["x-gatekit-fallback"] == "served-by=premium; attempts=1"
    assert raw.parse().choices[0].message.content.startswith("[gatekit demo provider] demo-premium")
    again = oai.chat.completions.with_raw_response.create(
        model="economy", messages=[{"role": "user", "content": fresh()}]
    )
    assert "x-gatekit-fallback" not in again.headers and again.headers["x-litellm-model-group"] == "economy"


def _sample(text: str, metric: str, requested_model: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(metric + "{") and f'requested_model="{requested_model}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_show_per_model_tokens_and_spend(local_gateway: GatewayHandle, oai: openai.OpenAI) -> None:
    before = httpx.get(local_gateway.url + "/metrics", timeout=30).text
    oai.chat.completions.create(model="demo-premium", messages=[{"role": "user", "content": fresh()}])
    after = httpx.get(local_gateway.url + "/metrics", timeout=30).text
    for metric in ("litellm_total_tokens_metric_total", "litellm_spend_metric_total", "litellm_requests_metric_total"):
        assert _sample(after, metric, "demo-premium") > _sample(before, metric, "demo-premium"), metric
    assert "gatekit_in_flight_requests" in after  # gatekit's own, on the same scrape


def test_gateway_switches_never_reach_the_upstream(
    claude: anthropic.Anthropic, oai: openai.OpenAI, faults: httpx.Client
) -> None:
    """`use_chat_completions_api` and friends steer LiteLLM; the upstream sees a plain chat completions body."""
    for call in (
        lambda: claude.messages.create(model="economy", max_tokens=32, messages=[{"role": "user", "content": fresh()}]),
        lambda: oai.responses.create(model="economy", input=fresh()),
    ):
        call()
        keys = faults.get(FAULTS_PATH).json()["last_keys"]["/v1/chat/completions"]
        assert "messages" in keys and "model" in keys
        assert not [k for k in keys if "chat_completions" in k or k.startswith("litellm")], keys
