"""The client SDK flows people run against a gateway — the OpenAI SDK (chat with a tool call, completions, responses,
embeddings) and the `anthropic` SDK (messages, streaming, the Claude Code tool-use round trip) — and the 404 flow (an
unsupported upstream route must not cool the deployment down). One definition, run through `make up`'s gateway
(tests/surface/test_client_apis.py) and through a rehearsed cloud target (tests/rehearse/client_sdks.py).

Every model is served by the demo provider (`gatekit mock-llm`), whose replies name the upstream model that answered:
each flow asserts on that, so a reply from the wrong tier (a silent fallback) fails. Each flow returns
short evidence."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import httpx2
import openai

from gatekit.config import Environment
from gatekit.demo.extras import DEMO_NOTICE, FAULTS_PATH, TOOL_TRIGGER

TIMEOUT_SECONDS = 120
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TOOL_RESULT = "sunny, 21 C"
ECHOED_RESULT = "tool get_weather returned: sunny"  # how the demo provider answers a tool result


def fresh(text: str = "") -> str:
    """A new prompt each call: gateways cache answers, and a cache hit never reaches upstream."""
    return f"{text} gatekit surface {secrets.token_hex(6)}".strip()


def upstream_names(env: Environment) -> dict[str, tuple[str, ...]]:
    """Model or tier name -> the upstream model names that may answer it. The demo provider is asked for the
    deployment's own name (env `local`'s demo models; the rehearsal points every model at it under its name)."""
    names: dict[str, tuple[str, ...]] = {m.model_name: (m.model_name,) for m in env.gateway.models}
    for tier in env.gateway.tiers:
        names[tier] = tuple(m.model_name for m in env.gateway.models if m.tier == tier)
    return names


@dataclass(frozen=True)
class SdkGateway:
    """One gateway as an SDK user sees it, and the names the flows call."""

    base_url: str  # the gateway's root (the SDKs add /v1)
    key: str
    chat: str  # an economy model or tier
    premium: str  # a premium model or tier
    embedding: str
    answers: Mapping[str, tuple[str, ...]]  # called name -> upstream names the demo provider's reply may carry
    demo_url: str  # the demo provider's root (its fault-injection endpoint)
    source_address: str | None = None  # the client's own address (e.g. one outside the admin networks)

    def http(self) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=self.source_address) if self.source_address else None
        return httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport)

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url + "/v1", api_key=self.key, max_retries=0, http_client=self.http())

    def anthropic(self) -> anthropic.Anthropic:
        """As Claude Code uses it: ANTHROPIC_BASE_URL at the gateway, the gateway key as the API key. (This SDK runs
        on `httpx2`, a fork of httpx: its client and transport come from there.)"""
        transport = httpx2.HTTPTransport(local_address=self.source_address) if self.source_address else None
        client = anthropic.DefaultHttpxClient(timeout=TIMEOUT_SECONDS, transport=transport)
        return anthropic.Anthropic(base_url=self.base_url, api_key=self.key, max_retries=0, http_client=client)

    def served_by(self, text: str | None, name: str) -> str:
        """The upstream that wrote `text`; fails unless it is one that serves `name`."""
        prefix = DEMO_NOTICE + " "
        upstream = text.removeprefix(prefix).split(" ", 1)[0] if text and text.startswith(prefix) else ""
        if upstream not in self.answers[name]:
            raise AssertionError(f"`{name}` answered by none of {self.answers[name]}: {text!r:.200}")
        return upstream


# ---- OpenAI SDK --------------------------------------------------------------------------------------------------


def openai_chat_tool_round_trip(gw: SdkGateway) -> dict[str, Any]:
    tool = {k: v for k, v in WEATHER_TOOL.items() if k != "input_schema"}
    tools: list[Any] = [{"type": "function", "function": {**tool, "parameters": WEATHER_TOOL["input_schema"]}}]
    with gw.openai() as oai:
        plain = oai.chat.completions.create(model=gw.chat, messages=[{"role": "user", "content": fresh()}])
        served = gw.served_by(plain.choices[0].message.content, gw.chat)
        messages: list[Any] = [{"role": "user", "content": fresh(f"{TOOL_TRIGGER}: weather in Paris?")}]
        first = oai.chat.completions.create(model=gw.chat, messages=messages, tools=tools)
        calls = first.choices[0].message.tool_calls or []
        assert first.choices[0].finish_reason == "tool_calls" and calls, first
        call = calls[0]
        assert call.type == "function" and call.function.name == "get_weather", call
        messages += [first.choices[0].message.model_dump(exclude_none=True)]
        messages += [{"role": "tool", "tool_call_id": call.id, "content": TOOL_RESULT}]
        second = oai.chat.completions.create(model=gw.chat, messages=messages, tools=tools)
    answer = second.choices[0].message.content or ""
    assert ECHOED_RESULT in answer, answer  # the tool result reached the model
    return {"served_by": served, "tool_call": call.function.name, "after_tool": answer[:80]}


def openai_completions(gw: SdkGateway) -> dict[str, Any]:
    with gw.openai() as oai:
        reply = oai.completions.create(model=gw.chat, prompt=fresh(), max_tokens=32)
        served = gw.served_by(reply.choices[0].text, gw.chat)
        chunks = list(oai.completions.create(model=gw.chat, prompt=fresh(), stream=True))
    streamed = "".join(c.choices[0].text or "" for c in chunks if c.choices)
    gw.served_by(streamed, gw.chat)
    return {"served_by": served, "stream_chunks": len(chunks)}


def openai_responses(gw: SdkGateway) -> dict[str, Any]:
    with gw.openai() as oai:
        reply = oai.responses.create(model=gw.chat, input=fresh())
        served = gw.served_by(reply.output_text, gw.chat)
        events = list(oai.responses.create(model=gw.premium, input=fresh(), stream=True))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    streamed_by = gw.served_by(text, gw.premium)
    assert events[-1].type == "response.completed", events[-1]
    return {"served_by": served, "streamed_by": streamed_by, "stream_events": len(events)}


def openai_embeddings(gw: SdkGateway) -> dict[str, Any]:
    with gw.openai() as oai:
        result = oai.embeddings.create(model=gw.embedding, input=[fresh(), fresh()])
    assert len(result.data) == 2 and all(len(d.embedding) > 0 for d in result.data), result
    return {"vectors": len(result.data), "dimensions": len(result.data[0].embedding)}


# ---- anthropic SDK -----------------------------------------------------------------------------------------------


def anthropic_messages(gw: SdkGateway, model: str) -> dict[str, Any]:
    with gw.anthropic() as claude:
        reply = claude.messages.create(model=model, max_tokens=64, messages=[{"role": "user", "content": fresh()}])
    assert reply.type == "message" and reply.stop_reason == "end_turn", reply
    assert reply.content[0].type == "text", reply.content
    served = gw.served_by(reply.content[0].text, model)
    assert reply.usage.output_tokens > 0, reply.usage
    return {"served_by": served, "output_tokens": reply.usage.output_tokens}


def anthropic_messages_streaming(gw: SdkGateway) -> dict[str, Any]:
    with (
        gw.anthropic() as claude,
        claude.messages.stream(model=gw.chat, max_tokens=64, messages=[{"role": "user", "content": fresh()}]) as s,
    ):
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert final.stop_reason == "end_turn", final
    return {"served_by": gw.served_by(text, gw.chat)}


def anthropic_tool_use_round_trip(gw: SdkGateway) -> dict[str, Any]:
    """The Claude Code round trip: a tool_use block, the client runs the tool, a tool_result goes back."""
    messages: list[Any] = [{"role": "user", "content": fresh(f"{TOOL_TRIGGER}: weather in Paris?")}]
    with gw.anthropic() as claude:
        first = claude.messages.create(model=gw.chat, max_tokens=256, tools=[WEATHER_TOOL], messages=messages)  # type: ignore[list-item]
        assert first.stop_reason == "tool_use", first
        use = next((b for b in first.content if b.type == "tool_use"), None)
        assert use is not None and use.name == "get_weather" and use.input == {"city": "demo"}, use
        messages += [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": TOOL_RESULT}]},
        ]
        second = claude.messages.create(model=gw.chat, max_tokens=256, tools=[WEATHER_TOOL], messages=messages)  # type: ignore[list-item]
    assert second.stop_reason == "end_turn", second
    text = second.content[0].text if second.content[0].type == "text" else ""
    assert ECHOED_RESULT in text, second.content  # the tool result reached the model
    return {"tool_use": use.name, "after_tool": text[:80]}


def anthropic_tool_use_streaming(gw: SdkGateway) -> dict[str, Any]:
    messages: list[Any] = [{"role": "user", "content": fresh(f"{TOOL_TRIGGER}: weather?")}]
    with (
        gw.anthropic() as claude,
        claude.messages.stream(model=gw.chat, max_tokens=256, tools=[WEATHER_TOOL], messages=messages) as s,  # type: ignore[list-item]
    ):
        final = s.get_final_message()
    use = next((b for b in final.content if b.type == "tool_use"), None)
    assert final.stop_reason == "tool_use" and use is not None and use.input == {"city": "demo"}, final
    return {"tool_use": use.name}


# ---- an unsupported route ----------------------------------------------------------------------------------------

CHATS_AFTER_404 = 3
MAX_404_CALLS = 12  # a tier's deployments are picked at random: call until each one has answered a 404


def _call_unsupported(oai: openai.OpenAI, route: str, model: str) -> None:
    if route == "/v1/completions":
        oai.completions.create(model=model, prompt=fresh())
    elif route == "/v1/embeddings":  # a chat-only upstream lacks it
        oai.embeddings.create(model=model, input=[fresh()])
    else:
        raise ValueError(f"no SDK call for {route}")


def not_found_keeps_serving(gw: SdkGateway, model: str, route: str = "/v1/completions") -> dict[str, Any]:
    """The upstream lacks `route` (the demo provider answers 404 there): the client gets the 404, and chat on the same
    model or tier is still served at once by it (no cooldown, no fallback to another tier). Every deployment behind
    `model` gets its 404 first (a one-shot rule per upstream, then one for all: the loop ends when the one-shot rules
    are used up); unless 404s are kept from cooling deployments down, the chats then fail or fall back.

    `/v1/completions` reaches the upstream's /v1/completions only for model names LiteLLM does not know as chat
    models (it sends known ones, e.g. gpt-4o-mini, to chat completions); `/v1/embeddings` reaches it for all."""
    upstreams = gw.answers[model]
    rules = [{"path": route, "status": 404, "model": u, "times": 1} for u in upstreams] + [
        {"path": route, "status": 404}
    ]
    with httpx.Client(base_url=gw.demo_url, timeout=30) as faults:
        faults.put(FAULTS_PATH, json=rules).raise_for_status()
        try:
            with gw.openai() as oai:
                calls, waiting, status = 0, list(upstreams), 0
                while waiting:
                    if calls == MAX_404_CALLS:
                        raise AssertionError(f"{route} of `{model}`: {waiting} never reached in {calls} calls")
                    calls += 1
                    try:
                        _call_unsupported(oai, route, model)
                    except openai.NotFoundError as exc:
                        status = exc.status_code
                    else:
                        raise AssertionError(f"{route} of `{model}` answered although the upstream has no such route")
                    waiting = [r["model"] for r in faults.get(FAULTS_PATH).json()["rules"] if r["times"] is not None]
                served = []
                for _ in range(CHATS_AFTER_404):
                    raw = oai.chat.completions.with_raw_response.create(
                        model=model, messages=[{"role": "user", "content": fresh()}]
                    )
                    assert raw.headers.get("x-litellm-model-group") == model, dict(raw.headers)
                    assert "x-gatekit-fallback" not in raw.headers, raw.headers["x-gatekit-fallback"]
                    served.append(gw.served_by(raw.parse().choices[0].message.content, model))
        finally:
            faults.delete(FAULTS_PATH).raise_for_status()
    return {
        "model": model,
        "route": route,
        "unsupported_route_status": status,
        "calls_until_every_upstream_404ed": calls,
        "then_served_by": served,
    }
