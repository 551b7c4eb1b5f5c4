"""Demo provider extras: legacy text completions and fault injection (canned tool use: gatekit/demo/tool_calls.py,
which also answers `TOOL_TRIGGER`).

Faults: `PUT /gatekit-demo/faults` with a list of rules (`path`, `status`, `latency_ms`, `times`, `model`) makes the
matching requests wait and/or fail with that status; `DELETE` clears them. Tests use it to stage upstream outages."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOOL_TRIGGER = "demo-tool-call"
FAULTS_PATH = "/gatekit-demo/faults"
DEMO_NOTICE = "[gatekit demo provider]"


def _tokens(text: str) -> int:
    return max(1, -(-len(text) // 4))


# ---- legacy completions ---------------------------------------------------------------------------------------------


async def completions(request: Request) -> Response:
    body = await request.json()
    model = str(body.get("model", "demo"))
    prompt = body.get("prompt", "")
    prompt_text = prompt if isinstance(prompt, str) else " ".join(str(p) for p in prompt)
    text = f"{DEMO_NOTICE} {model} completed: {prompt_text[-60:]!r}. Canned demo text, not a model answer."
    usage = {
        "prompt_tokens": _tokens(prompt_text),
        "completion_tokens": _tokens(text),
        "total_tokens": _tokens(prompt_text) + _tokens(text),
    }
    base = {"id": f"cmpl-demo-{uuid.uuid4().hex[:16]}", "object": "text_completion", "created": int(time.time())}
    if not body.get("stream"):
        choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
        return JSONResponse({**base, "model": model, "choices": [choice], "usage": usage})

    async def events() -> AsyncIterator[bytes]:
        for i, word in enumerate(text.split(" ")):
            piece = word if i == 0 else f" {word}"
            choice = {"index": 0, "text": piece, "finish_reason": None, "logprobs": None}
            yield f"data: {json.dumps({**base, 'model': model, 'choices': [choice]})}\n\n".encode()
        final = {"index": 0, "text": "", "finish_reason": "stop", "logprobs": None}
        yield f"data: {json.dumps({**base, 'model': model, 'choices': [final], 'usage': usage})}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


# ---- fault injection ------------------------------------------------------------------------------------------------


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Request path the rule matches, e.g. /v1/chat/completions.")
    status: int | None = Field(default=None, ge=400, le=599, description="Answer with this status; none: pass.")
    latency_ms: int = Field(default=0, ge=0, description="Wait this long first.")
    times: int | None = Field(default=None, ge=1, description="Apply to this many requests; none: until cleared.")
    model: str | None = Field(default=None, description="Only requests for this model (the upstream model name).")


@dataclass
class _Armed:
    rule: FaultRule
    remaining: int | None


class FaultInjector:
    """ASGI middleware in front of the demo app: the control endpoint and the rules it arms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.rules: list[_Armed] = []
        self.hits: dict[str, int] = {}
        self.last_keys: dict[str, list[str]] = {}  # top-level keys of the last JSON body per path (what upstream got)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == FAULTS_PATH:
            await self._control(Request(scope, receive), scope, receive, send)
            return
        self.hits[scope["path"]] = self.hits.get(scope["path"], 0) + 1
        body = b""
        more = True
        messages: list[Message] = []
        while more:  # buffer the body: a rule may match on the model, and the app must still read it
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        rule = self._match(scope["path"], body)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()  # then wait for the real disconnect

        if rule is not None:
            if rule.latency_ms:
                await asyncio.sleep(rule.latency_ms / 1000)
            if rule.status is not None:
                error = {"message": f"{DEMO_NOTICE} injected fault {rule.status}", "type": "demo_fault"}
                await JSONResponse({"error": error}, status_code=rule.status)(scope, replay, send)
                return
        await self.app(scope, replay, send)

    def _match(self, path: str, body: bytes) -> FaultRule | None:
        model: Any = None
        if body:
            try:
                doc: Any = json.loads(body)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                fields = cast("dict[str, Any]", doc)
                model = fields.get("model")
                self.last_keys[path] = sorted(fields)
        for armed in self.rules:
            rule = armed.rule
            if rule.path == path and (rule.model is None or rule.model == model):
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        self.rules.remove(armed)
                return rule
        return None

    async def _control(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        if request.method == "PUT":
            rules = [FaultRule.model_validate(r) for r in await request.json()]
            self.rules = [_Armed(r, r.times) for r in rules]
        elif request.method == "DELETE":
            self.rules = []
        rules = [a.rule.model_dump() for a in self.rules]
        body = {"rules": rules, "hits": self.hits, "last_keys": self.last_keys}
        await JSONResponse(body)(scope, receive, send)
