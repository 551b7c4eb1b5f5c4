"""The deployment's own outcomes: `POST /gatekit/feedback` records, the trainer's reader, shadow and promotion.

Record (JSON lines, append-only): {"id", "ts", "text", "tier", "quality", "source"} — `text` is the router's window
of the conversation (gatekit.routing.context, already cut), `tier` the tier whose answer was scored, `quality` 0..1.
A prompt becomes a training pair when both the cheapest and the premium tier have a record with its id (an
exploration/shadow answer from the other tier, scored by a user or a judge); single-sided records are counted as
skipped, never guessed.

Promotion: a candidate artifact is trained on the benchmarks plus the feedback pairs whose id hashes into the
training part; it is promoted (copied over the serving artifact, which gateways hot-reload) only when neither its
`route bench` APGR on any benchmark nor its APGR on the held-out feedback pairs is lower than the serving artifact's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from gatekit.routing.context import window

FEEDBACK_PATH = "/gatekit/feedback"
MAX_BODY = 1 << 20


class FeedbackError(ValueError):
    pass


def feedback_file() -> Path:
    explicit = os.environ.get("GATEKIT_ROUTE_FEEDBACK_FILE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("GATEKIT_RUNTIME_DIR", ".gatekit")) / "route-outcomes.jsonl"


def record_from(item: object, tiers: list[str]) -> dict[str, Any]:
    """Validate a feedback body: {"id", "tier", "quality" 0..1, "messages" or "prompt", optional "source"}."""
    if not isinstance(item, dict):
        raise FeedbackError("feedback must be a JSON object")
    body = cast("dict[str, Any]", item)
    rid = body.get("id")
    if not isinstance(rid, str) or not rid:
        raise FeedbackError("`id` (the request id the outcome belongs to) is required")
    tier = body.get("tier")
    if tier not in tiers:
        raise FeedbackError(f"`tier` must be one of {tiers}")
    quality = body.get("quality")
    if isinstance(quality, bool) or not isinstance(quality, int | float) or not 0.0 <= float(quality) <= 1.0:
        raise FeedbackError("`quality` must be a number within [0, 1]")
    messages: Any = body.get("messages")
    if messages is None and isinstance(body.get("prompt"), str):
        messages = [{"role": "user", "content": body["prompt"]}]
    if not isinstance(messages, list) or not messages:
        raise FeedbackError("`messages` (the conversation) or `prompt` is required")
    return {"id": rid, "ts": round(time.time(), 3), "text": window(cast("list[Any]", messages)).text, "tier": tier,
            "quality": float(quality), "source": str(body.get("source", "feedback"))}  # fmt: skip


def _unscored(record: object) -> bool:
    return isinstance(record, dict) and "quality" in record and cast("dict[str, Any]", record)["quality"] is None


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)


@dataclass
class Pairs:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    strong: list[float] = field(default_factory=list)
    weak: list[float] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def read_pairs(lines: Iterable[str], cheap: str, premium: str) -> Pairs:
    """Join records by id into (weak, strong) outcome pairs; the mean when a tier was scored more than once."""
    seen: dict[str, dict[str, list[float]]] = {}
    texts: dict[str, str] = {}
    out = Pairs()
    for line in lines:
        if not line.strip():
            continue
        try:
            r: Any = json.loads(line)
            if _unscored(r):  # an exploration answer, not scored
                out.skipped["unscored"] = out.skipped.get("unscored", 0) + 1
                continue
            rid, tier, q, text = r["id"], r["tier"], float(r["quality"]), r["text"]
        except (ValueError, KeyError, TypeError):
            out.skipped["malformed"] = out.skipped.get("malformed", 0) + 1
            continue
        if tier not in (cheap, premium):
            out.skipped["other tier"] = out.skipped.get("other tier", 0) + 1
            continue
        seen.setdefault(rid, {}).setdefault(tier, []).append(q)
        texts.setdefault(rid, text)
    for rid, by_tier in seen.items():
        if cheap in by_tier and premium in by_tier:
            out.ids.append(rid)
            out.texts.append(texts[rid])
            out.strong.append(float(np.mean(by_tier[premium])))
            out.weak.append(float(np.mean(by_tier[cheap])))
        else:
            out.skipped["one tier only"] = out.skipped.get("one tier only", 0) + 1
    return out


def held_out(rid: str, share: float = 0.3) -> bool:
    """Stable split of feedback pairs: a fixed share of ids is never trained on (the shadow check's data)."""
    return int(hashlib.sha256(rid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def promote(candidate: Path, serving: Path) -> None:
    """Copy a verified candidate over the serving artifact directory, manifest last (watchers never see a mix)."""
    from gatekit.routing.artifact import FILES, MANIFEST

    serving.mkdir(parents=True, exist_ok=True)
    for name in (*FILES, MANIFEST):
        tmp = serving / f".{name}.tmp"
        shutil.copyfile(candidate / name, tmp)
        tmp.replace(serving / name)


async def handle(receive: Any, tiers: list[str] | None, store: FeedbackStore) -> tuple[int, dict[str, Any]]:
    """The body of `POST /gatekit/feedback` (the caller has authenticated it): (status, JSON response)."""
    if not tiers:
        return 404, {"error": {"message": "ML routing is not enabled on this gateway: no outcomes to record"}}
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return 413, {"error": {"message": f"feedback body over {MAX_BODY} bytes"}}
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        body: Any = json.loads(b"".join(chunks) or b"null")
        items: list[Any] = cast("list[Any]", body) if isinstance(body, list) else [body]
        records = [record_from(item, tiers) for item in items]
    except (ValueError, FeedbackError) as exc:
        return 400, {"error": {"message": f"invalid feedback: {exc}", "type": "invalid_request_error"}}
    for record in records:
        await asyncio.to_thread(store.append, record)  # file I/O off the event loop
    return 200, {"recorded": len(records), "file": str(store.path)}
