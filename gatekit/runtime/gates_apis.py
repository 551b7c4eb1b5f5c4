"""Parity gates for the client APIs beyond chat completions (`gatekit validate`): legacy completions, the Responses
API and Anthropic messages (JSON and streaming), each on the chat model the `models` gate chose."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekit.runtime.gates import GateRunner

PROMPT = "gatekit validate: reply with anything"


def _ok(runner: GateRunner, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    from gatekit.runtime.gates import status_is

    model = runner.chat_body(False)["model"]  # fails the gate when the models gate found no chat model
    r = runner.client.post(path, headers={**runner.auth, **(headers or {})}, json={"model": model, **body})
    status_is(r, 200)
    return r.json()


def completions(runner: GateRunner) -> str:
    from gatekit.runtime.gates import expect

    text = _ok(runner, "/v1/completions", {"prompt": PROMPT, "max_tokens": 16})["choices"][0]["text"]
    expect(isinstance(text, str) and bool(text), "empty completion")
    return f"{len(text)} characters"


def responses(runner: GateRunner) -> str:
    from gatekit.runtime.gates import expect

    doc = _ok(runner, "/v1/responses", {"input": PROMPT, "max_output_tokens": 16})
    outputs: list[dict[str, Any]] = doc.get("output", [])
    texts: list[str] = [c.get("text", "") for o in outputs for c in o.get("content") or ()]
    expect(doc.get("status") == "completed" and any(texts), f"status {doc.get('status')!r}, no output text")
    return f"{sum(len(t) for t in texts)} characters"


ANTHROPIC = {"anthropic-version": "2023-06-01"}


def anthropic_messages(runner: GateRunner) -> str:
    from gatekit.runtime.gates import expect

    body = {"max_tokens": 16, "messages": [{"role": "user", "content": PROMPT}]}
    doc = _ok(runner, "/v1/messages", body, ANTHROPIC)
    expect(doc.get("type") == "message", f"not an Anthropic message: {str(doc)[:120]}")
    texts = [b.get("text", "") for b in doc.get("content", []) if b.get("type") == "text"]
    expect(any(texts), "no text block")
    return f"stop_reason {doc.get('stop_reason')}"


def anthropic_messages_stream(runner: GateRunner) -> str:
    from gatekit.runtime.gates import expect

    model = runner.chat_body(False)["model"]
    body = {"model": model, "max_tokens": 16, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    events: list[str] = []
    with runner.client.stream("POST", "/v1/messages", headers={**runner.auth, **ANTHROPIC}, json=body) as r:
        expect(r.status_code == 200, f"stream -> {r.status_code}")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(str(json.loads(line.removeprefix("data: ")).get("type")))
    expect("content_block_delta" in events and events[-1:] == ["message_stop"], f"events: {events[:3]}…{events[-2:]}")
    return f"{len(events)} events, message_stop"


CLIENT_API_GATES: tuple[tuple[str, Callable[[GateRunner], str]], ...] = (
    ("completions", completions),
    ("responses", responses),
    ("anthropic-messages", anthropic_messages),
    ("anthropic-messages-stream", anthropic_messages_stream),
)
