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
