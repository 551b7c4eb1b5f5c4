"""Demo provider: canned tool use, so tool calling (MCP tools in chat completions) can be exercised without a model.

Only when the request carries `tools` and the last user message says `call tool NAME with {json}` does the demo
provider answer with that tool call (finish_reason `tool_calls`); a last user message containing `TOOL_TRIGGER`
(`demo-tool-call`) calls the first tool offered with every required string argument set to "demo". When the last
message is a tool result, it answers `[gatekit demo provider] tool NAME returned: <result>`. The tool name may be
the bare name or any tool whose name ends with `-NAME` (the gateway prefixes MCP tools with their server name). It is
canned text, not a model."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

from starlette.responses import JSONResponse, Response, StreamingResponse

from gatekit.demo.extras import TOOL_TRIGGER
from gatekit.demo.provider import DEMO_NOTICE

CALL_PATTERN = re.compile(r"call tool\s+(?P<name>[A-Za-z0-9_.:-]+)(?:\s+with\s+(?P<args>\{.*\}))?", re.DOTALL)


def _list(value: Any) -> list[Any]:
    return value or []


def _dict(value: Any) -> dict[str, Any]:
    return value or {}


def _tool_names(tools: list[Any]) -> list[str]:
    names: list[str] = []
    for tool in tools:
        function: Any = cast("dict[str, Any]", tool).get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict):
            name = cast("dict[str, Any]", function).get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = cast("list[Any]", content)
        return "\n".join(str(cast("dict[str, Any]", p).get("text", "")) for p in parts if isinstance(p, dict))
    return ""


def tool_reply(body: dict[str, Any]) -> dict[str, Any] | None:
    """The assistant message for a tool-use request, or None when this is not one."""
    tools: list[Any] = body.get("tools") or []
    messages: list[dict[str, Any]] = body.get("messages") or []
    if not tools or not messages:
        return None
    last = messages[-1]
    if last.get("role") == "tool":
        calls: list[dict[str, Any]] = [c for m in reversed(messages) for c in _list(m.get("tool_calls"))]
        called: Any = next((c["function"]["name"] for c in calls if c.get("id") == last.get("tool_call_id")), "?")
        return {"role": "assistant", "content": f"{DEMO_NOTICE} tool {called} returned: {_text(last)}"}
    if last.get("role") != "user":
        return None
    text = _text(last)
    match = CALL_PATTERN.search(text)
    if match is None:
        return _call(*_first_tool(tools)) if TOOL_TRIGGER in text else None
    wanted = match.group("name")
    name = next((n for n in _tool_names(tools) if n == wanted or n.endswith(f"-{wanted}")), None)
    if name is None:
        return {"role": "assistant", "content": f"{DEMO_NOTICE} no tool named {wanted!r} was offered"}
    return _call(name, json.loads(match.group("args") or "{}"))


def _first_tool(tools: list[Any]) -> tuple[str, dict[str, Any]]:
    """The first tool offered and "demo" for each of its required string arguments."""
    function: dict[str, Any] = tools[0].get("function", tools[0])
    schema: dict[str, Any] = function.get("parameters") or {}
    props: dict[str, Any] = schema.get("properties") or {}
    required: list[str] = schema.get("required", [])
    return function["name"], {n: "demo" for n in required if _dict(props.get(n)).get("type") == "string"}


def _call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    call = {
        "id": f"call_demo_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def tool_response(body: dict[str, Any], reply: dict[str, Any]) -> Response:
    """The chat completion (JSON or SSE) carrying `reply`."""
    model = str(body.get("model", "demo"))
    finish = "tool_calls" if reply.get("tool_calls") else "stop"
    base = {"id": f"chatcmpl-demo-{uuid.uuid4().hex[:16]}", "created": int(time.time()), "model": model}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    if not body.get("stream"):
        choice = {"index": 0, "message": reply, "finish_reason": finish}
        return JSONResponse({**base, "object": "chat.completion", "choices": [choice], "usage": usage})

    async def events() -> AsyncIterator[bytes]:
        delta: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if reply.get("tool_calls"):
            delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(reply["tool_calls"])]
        chunk = {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        yield f"data: {json.dumps(chunk)}\n\n".encode()
        final: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": finish}
        last = {**base, "object": "chat.completion.chunk", "choices": [final], "usage": usage}
        yield f"data: {json.dumps(last)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
