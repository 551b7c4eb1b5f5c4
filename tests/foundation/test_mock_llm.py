"""The demo provider, in-process."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from gatekit.demo.provider import DEMO_NOTICE, EMBEDDING_DIMENSIONS, DemoSettings, create_app


def client(**kw: int) -> TestClient:
    return TestClient(create_app(DemoSettings(chunk_delay_ms=0, **kw)))


def test_chat_completion_is_labelled_as_demo() -> None:
    r = client().post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hello"}]})
    body = r.json()
    assert r.status_code == 200
    assert body["choices"][0]["message"]["content"].startswith(DEMO_NOTICE)
    assert "hello" in body["choices"][0]["message"]["content"]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_streaming_sends_the_configured_chunks_then_done() -> None:
    r = client(chunks=5).post("/v1/chat/completions", json={"model": "m", "stream": True, "messages": []})
    events = [line.removeprefix("data: ") for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) == 6  # 5 content chunks + the final one with finish_reason and usage
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_embeddings_are_deterministic_unit_vectors() -> None:
    c = client()
    a = c.post("/v1/embeddings", json={"model": "e", "input": ["x", "y"]}).json()
    b = c.post("/v1/embeddings", json={"model": "e", "input": "x"}).json()
    assert len(a["data"]) == 2
    assert a["data"][0]["embedding"] == b["data"][0]["embedding"] != a["data"][1]["embedding"]
    vec = a["data"][0]["embedding"]
    assert len(vec) == EMBEDDING_DIMENSIONS
    assert abs(sum(v * v for v in vec) - 1) < 1e-9


def test_tool_trigger_calls_the_first_tool_and_the_result_is_echoed() -> None:
    """One tool-use path (gatekit/demo/tool_calls.py) for both prompts: `demo-tool-call` and `call tool NAME`."""
    from gatekit.demo.extras import TOOL_TRIGGER

    client = TestClient(create_app(DemoSettings()))
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {**schema, "required": ["city"]}}}]
    asked = [{"role": "user", "content": f"{TOOL_TRIGGER}: weather in Paris?"}]
    first = client.post("/v1/chat/completions", json={"model": "demo", "messages": asked, "tools": tools}).json()
    choice = first["choices"][0]
    call = choice["message"]["tool_calls"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {"city": "demo"}
    answered = [*asked, choice["message"], {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"}]
    second = client.post("/v1/chat/completions", json={"model": "demo", "messages": answered, "tools": tools}).json()
    assert second["choices"][0]["message"]["content"] == f"{DEMO_NOTICE} tool get_weather returned: sunny, 21 C"
    streamed = client.post(
        "/v1/chat/completions", json={"model": "demo", "messages": asked, "tools": tools, "stream": True}
    )
    chunks = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: {")]
    deltas = [c["choices"][0].get("delta", {}) for c in chunks]
    assert [d["tool_calls"][0]["function"]["name"] for d in deltas if d.get("tool_calls")] == ["get_weather"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
