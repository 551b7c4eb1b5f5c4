"""Every client API people point at a gateway, through the real proxy exactly as `make up` runs it (the session's
shared `local_gateway`: `gatekit up`, env `local`, the demo provider serving both tiers)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from gatekit.demo.extras import FAULTS_PATH, TOOL_TRIGGER
from tests.conftest import GatewayHandle

pytestmark = pytest.mark.slow

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def fresh(text: str = "") -> str:
    """A new prompt each call: the local environment caches answers, and a cache hit never reaches upstream."""
    return f"{text} gatekit surface {secrets.token_hex(6)}".strip()


@pytest.fixture
def oai(local_gateway: GatewayHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=local_gateway.url + "/v1", api_key=local_gateway.key, max_retries=0, timeout=120)


@pytest.fixture
def claude(local_gateway: GatewayHandle) -> anthropic.Anthropic:
    """The Anthropic SDK as Claude Code uses it: ANTHROPIC_BASE_URL at the gateway, the gateway key as API key."""
    return anthropic.Anthropic(base_url=local_gateway.url, api_key=local_gateway.key, max_retries=0, timeout=120)


@pytest.fixture
def faults(local_gateway: GatewayHandle) -> Iterator[httpx.Client]:
    """The demo provider's fault-injection endpoint; every rule is cleared afterwards (the gateway is shared)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{local_gateway.demo_port}", timeout=30) as client:
        yield client
        client.delete(FAULTS_PATH).raise_for_status()


def test_openai_completions(oai: openai.OpenAI) -> None:
    reply = oai.completions.create(model="economy", prompt=fresh(), max_tokens=32)
    assert reply.choices[0].text.startswith("[gatekit demo provider] demo-economy")
    chunks = list(oai.completions.create(model="economy", prompt=fresh(), stream=True))
    streamed = "".join(c.choices[0].text or "" for c in chunks if c.choices)
    assert streamed.startswith("[gatekit demo provider] demo-economy")


def test_openai_responses(oai: openai.OpenAI) -> None:
    reply = oai.responses.create(model="economy", input=fresh())
    assert reply.output_text.startswith("[gatekit demo provider] demo-economy")
    events = list(oai.responses.create(model="premium", input=fresh(), stream=True))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text.startswith("[gatekit demo provider] demo-premium")
    assert events[-1].type == "response.completed"


def test_openai_embeddings(oai: openai.OpenAI) -> None:
    result = oai.embeddings.create(model="demo-embedding", input=[fresh(), fresh()])
    assert len(result.data) == 2 and len(result.data[0].embedding) > 0


def test_openai_chat_tool_call_round_trip(oai: openai.OpenAI) -> None:
    tools = [{"type": "function", "function": {**WEATHER_TOOL, "parameters": WEATHER_TOOL["input_schema"]}}]
    tools[0]["function"].pop("input_schema")
    messages: list[dict] = [{"role": "user", "content": fresh(f"{TOOL_TRIGGER}: weather in Paris?")}]
    first = oai.chat.completions.create(model="economy", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    messages += [first.choices[0].message.model_dump(exclude_none=True)]
    messages += [{"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    second = oai.chat.completions.create(model="economy", messages=messages, tools=tools)
    assert "tool get_weather returned: sunny" in second.choices[0].message.content  # the tool result, echoed
    assert "sunny" in second.choices[0].message.content


@pytest.mark.parametrize("tier", ["economy", "premium"])
def test_anthropic_messages(claude: anthropic.Anthropic, tier: str) -> None:
    reply = claude.messages.create(model=tier, max_tokens=64, messages=[{"role": "user", "content": fresh()}])
    assert reply.type == "message" and reply.stop_reason == "end_turn"
    assert reply.content[0].text.startswith(f"[gatekit demo provider] demo-{tier}")
    assert reply.usage.output_tokens > 0


def test_anthropic_messages_streaming(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(model="economy", max_tokens=64, messages=[{"role": "user", "content": fresh()}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text.startswith("[gatekit demo provider] demo-economy")
    assert final.stop_reason == "end_turn"


def test_anthropic_tool_use_round_trip(claude: anthropic.Anthropic) -> None:
    """The Claude Code round trip: a tool_use block, the client runs the tool, a tool_result goes back."""
    messages: list[dict] = [{"role": "user", "content": fresh(f"{TOOL_TRIGGER}: weather in Paris?")}]
    first = claude.messages.create(model="economy", max_tokens=256, tools=[WEATHER_TOOL], messages=messages)
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"city": "demo"}
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21 C"}]},
    ]
    second = claude.messages.create(model="economy", max_tokens=256, tools=[WEATHER_TOOL], messages=messages)
    assert second.stop_reason == "end_turn"
    assert "tool get_weather returned: sunny" in second.content[0].text  # the tool result, echoed


def test_anthropic_tool_use_streaming(claude: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": fresh(f"{TOOL_TRIGGER}: weather?")}]
    with claude.messages.stream(model="economy", max_tokens=256, tools=[WEATHER_TOOL], messages=messages) as s:
        final = s.get_final_message()
    use = next(b for b in final.content if b.type == "tool_use")
    assert final.stop_reason == "tool_use" and use.input == {"city": "demo"}


def test_auto_is_listed(local_gateway: GatewayHandle) -> None:
    r = httpx.get(local_gateway.url + "/v1/models", headers={"Authorization": f"Bearer {local_gateway.key}"})
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert "auto" in ids and {"economy", "premium"} <= set(ids)
    assert ids.count("auto") == 1


def test_a_404_on_an_unsupported_route_does_not_cool_the_tier_down(oai: openai.OpenAI, faults: httpx.Client) -> None:
    """The upstream lacks /v1/completions (404): the client gets the 404, and chat on the same tier is still
    served at once by that tier (no cooldown, no silent fallback to premium)."""
    faults.put(FAULTS_PATH, json=[{"path": "/v1/completions", "status": 404}]).raise_for_status()
    with pytest.raises(openai.NotFoundError):
        oai.completions.create(model="economy", prompt=fresh())
    for _ in range(3):
        raw = oai.chat.completions.with_raw_response.create(
            model="economy", messages=[{"role": "user", "content": fresh()}]
        )
        assert raw.headers["x-litellm-model-group"] == "economy"
        assert "x-gatekit-fallback" not in raw.headers
        assert raw.parse().choices[0].message.content.startswith("[gatekit demo provider] demo-economy")


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
