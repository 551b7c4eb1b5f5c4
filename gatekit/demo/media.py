"""Demo provider growth for the parity matrix: images, audio (transcription and speech), files and batches.

Every answer is canned and labelled as demo output: the image is a 1x1 PNG, the transcription is a fixed sentence,
the speech is a short silent WAV, and files/batches live in memory for the life of the process (nothing is run).
OpenAI-compatible shapes, so LiteLLM's OpenAI client can parse them."""

from __future__ import annotations

import base64
import io
import struct
import time
import uuid
import wave
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

DEMO_NOTICE = "[gatekit demo provider]"
# A valid 1x1 transparent PNG.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def silent_wav(seconds: float = 0.1, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return buf.getvalue()


class MediaStore:
    """In-memory files and batches (per demo-provider process)."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}

    async def images(self, request: Request) -> Response:
        body = await request.json()
        n = int(body.get("n") or 1)
        item = {"b64_json": base64.b64encode(PNG_1X1).decode(), "revised_prompt": f"{DEMO_NOTICE} canned 1x1 image"}
        return JSONResponse({"created": int(time.time()), "data": [item for _ in range(n)]})

    async def transcription(self, request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        size = len(await upload.read()) if upload is not None and not isinstance(upload, str) else 0
        return JSONResponse({"text": f"{DEMO_NOTICE} canned transcription of {size} bytes of audio."})

    async def speech(self, request: Request) -> Response:
        await request.json()
        return Response(silent_wav(), media_type="audio/wav", headers={"x-gatekit-demo": "canned silent audio"})

    async def create_file(self, request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return JSONResponse({"error": {"message": "file is required", "type": "invalid_request_error"}}, 400)
        data = await upload.read()
        file_id = f"file-demo-{uuid.uuid4().hex[:16]}"
        record = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": upload.filename or "upload",
            "purpose": str(form.get("purpose") or "batch"),
            "status": "processed",
        }
        self.files[file_id] = record
        self.contents[file_id] = data
        return JSONResponse(record)

    async def list_files(self, _: Request) -> Response:
        return JSONResponse({"object": "list", "data": list(self.files.values()), "has_more": False})

    async def get_file(self, request: Request) -> Response:
        record = self.files.get(request.path_params["file_id"])
        if record is None:
            return JSONResponse({"error": {"message": "no such file", "type": "invalid_request_error"}}, 404)
        if request.method == "DELETE":
            self.files.pop(record["id"])
            return JSONResponse({"id": record["id"], "object": "file", "deleted": True})
        return JSONResponse(record)

    async def file_content(self, request: Request) -> Response:
        data = self.contents.get(request.path_params["file_id"])
        if data is None:
            return JSONResponse({"error": {"message": "no such file", "type": "invalid_request_error"}}, 404)
        return Response(data, media_type="application/octet-stream")

    def _batch(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"batch_demo_{uuid.uuid4().hex[:16]}",
            "object": "batch",
            "endpoint": str(body.get("endpoint", "/v1/chat/completions")),
            "errors": None,
            "input_file_id": str(body.get("input_file_id", "")),
            "completion_window": str(body.get("completion_window", "24h")),
            "status": "validating",  # canned: the demo never runs a batch
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": {"gatekit_demo": "canned batch; never executed"},
        }

    async def list_or_create_batch(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"object": "list", "data": list(self.batches.values()), "has_more": False})
        batch = self._batch(await request.json())
        self.batches[batch["id"]] = batch
        return JSONResponse(batch)

    async def get_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return JSONResponse({"error": {"message": "no such batch", "type": "invalid_request_error"}}, 404)
        if request.url.path.endswith("/cancel"):
            batch["status"] = "cancelled"
        return JSONResponse(batch)


def media_routes() -> list[BaseRoute]:
    store = MediaStore()
    routes: list[BaseRoute] = []
    for prefix in ("/v1", ""):
        routes += [
            Route(f"{prefix}/images/generations", store.images, methods=["POST"]),
            Route(f"{prefix}/audio/transcriptions", store.transcription, methods=["POST"]),
            Route(f"{prefix}/audio/speech", store.speech, methods=["POST"]),
            Route(f"{prefix}/files", store.create_file, methods=["POST"]),
            Route(f"{prefix}/files", store.list_files, methods=["GET"]),
            Route(f"{prefix}/files/{{file_id}}", store.get_file, methods=["GET", "DELETE"]),
            Route(f"{prefix}/files/{{file_id}}/content", store.file_content, methods=["GET"]),
            Route(f"{prefix}/batches", store.list_or_create_batch, methods=["GET", "POST"]),
            Route(f"{prefix}/batches/{{batch_id}}", store.get_batch, methods=["GET"]),
            Route(f"{prefix}/batches/{{batch_id}}/cancel", store.get_batch, methods=["POST"]),
        ]
    return routes
