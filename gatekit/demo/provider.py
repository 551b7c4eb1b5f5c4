"""A clearly-labelled demo upstream: OpenAI-compatible chat completions (JSON and SSE streaming, canned tool calls),
text completions, embeddings and model listing, with configurable latency, per-chunk delay and fault injection
(gatekit/demo/extras.py); images, audio, files and batches as canned answers (gatekit/demo/media.py). It answers with
canned text; it is not a model."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gatekit.demo.extras import FaultInjector, completions
from gatekit.demo.media import media_routes

DEMO_NOTICE = "[gatekit demo provider]"
EMBEDDING_DIMENSIONS = 64


@dataclass(frozen=True)
class DemoSettings:
    latency_ms: int = 0
    chunk_delay_ms: int = 10
    chunks: int = 8


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _prompt_text(messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            pieces = cast("list[Any]", content)
            parts.extend(str(cast("dict[str, Any]", p).get("text", "")) for p in pieces if isinstance(p, dict))
    return "\n".join(parts)


def _answer(model: str, prompt: str, chunks: int) -> list[str]:
    last_line = prompt.strip().splitlines()[-1] if prompt.strip() else ""
    echo = (last_line[:80] + "...") if len(last_line) > 80 else last_line
    words = f"{DEMO_NOTICE} {model} received: {echo!r}. This is canned demo text, not a model answer.".split(" ")
    size = max(1, math.ceil(len(words) / chunks))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    pieces += [""] * (chunks - len(pieces))
    return [p if i == 0 else f" {p}" if p else "" for i, p in enumerate(pieces)][:chunks]


def _embedding(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(EMBEDDING_DIMENSIONS)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def create_app(settings: DemoSettings) -> FaultInjector:
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "demo": True})

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "demo", "object": "model", "owned_by": "gatekit-demo"}]})

    async def chat(request: Request) -> Response:
        body = await request.json()
        # Canned tool use when the request offers tools (gatekit/demo/tool_calls.py).
        from gatekit.demo.tool_calls import tool_reply, tool_response

        reply = tool_reply(body)
        if reply is not None:
            return tool_response(body, reply)
        model = str(body.get("model", "demo"))
        prompt = _prompt_text(body.get("messages") or [])
        pieces = _answer(model, prompt, settings.chunks)
        completion_id = f"chatcmpl-demo-{uuid.uuid4().hex[:16]}"
        created = int(time.time())
        usage = {
            "prompt_tokens": _tokens(prompt),
            "completion_tokens": _tokens("".join(pieces)),
            "total_tokens": _tokens(prompt) + _tokens("".join(pieces)),
        }
        if settings.latency_ms:
            await asyncio.sleep(settings.latency_ms / 1000)
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(pieces)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        async def events() -> AsyncIterator[bytes]:
            base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
            for i, piece in enumerate(pieces):
                if i and settings.chunk_delay_ms:
                    await asyncio.sleep(settings.chunk_delay_ms / 1000)
                delta: dict[str, Any] = {"content": piece}
                if i == 0:
                    delta["role"] = "assistant"
                chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            final_choice: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": "stop"}
            final = {**base, "choices": [final_choice], "usage": usage}
            yield f"data: {json.dumps(final)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def embeddings(request: Request) -> Response:
        body = await request.json()
        inputs = body.get("input", "")
        items: list[Any] = cast("list[Any]", inputs) if isinstance(inputs, list) else [inputs]
        data = [{"object": "embedding", "index": i, "embedding": _embedding(str(t))} for i, t in enumerate(items)]
        tokens = sum(_tokens(str(t)) for t in items)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model", "demo")),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/embeddings", embeddings, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/completions", completions, methods=["POST"]),
            *media_routes(),  # images, audio, files, batches (gatekit/demo/media.py)
        ]
    )
    return FaultInjector(app)
