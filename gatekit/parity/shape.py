"""Response shapes: the JSON key structure and value types of a body, never its values."""

from __future__ import annotations

import json
from typing import Any, cast

Shape = dict[str, str]  # flattened: path -> type name, e.g. {"choices[].message.content": "str"}


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def flatten(value: Any, prefix: str = "$", out: Shape | None = None) -> Shape:
    """Flatten a JSON value into path -> type. List items are merged under `[]` (their union)."""
    out = {} if out is None else out
    if isinstance(value, dict):
        out[prefix] = "object"
        for key, item in cast("dict[str, Any]", value).items():
            flatten(item, f"{prefix}.{key}", out)
    elif isinstance(value, list):
        out[prefix] = "array"
        for item in cast("list[Any]", value):
            flatten(item, f"{prefix}[]", out)
    else:
        seen = out.get(prefix)
        kind = _type(value)
        # null and a concrete type at the same place (e.g. finish_reason over stream chunks): keep the concrete one.
        out[prefix] = kind if seen in (None, "null") else seen
    return out


def sse_shape(text: str) -> Shape:
    """Union of the shapes of every `data:` JSON event of a server-sent-event stream, plus a [DONE] marker."""
    out: Shape = {"$": "sse"}
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            out["$.[DONE]"] = "marker"
            continue
        try:
            flatten(json.loads(payload), "$.event", out)
        except json.JSONDecodeError:
            out["$.event"] = "text"
    return out


def body_shape(content_type: str, body: bytes) -> Shape:
    media = content_type.split(";")[0].strip().lower()
    if media == "text/event-stream":
        return sse_shape(body.decode(errors="replace"))
    if media.endswith("json") or body[:1] in (b"{", b"["):
        try:
            return flatten(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
    if not body:
        return {"$": "empty"}
    family = media.split("/")[0] if media else "unknown"
    return {"$": f"bytes:{family}"}


def diff(left: Shape, right: Shape) -> tuple[list[str], list[str], list[str]]:
    """(only in left, only in right, same path but different type)."""
    only_left = sorted(set(left) - set(right))
    only_right = sorted(set(right) - set(left))
    changed = sorted(p for p in set(left) & set(right) if left[p] != right[p])
    return only_left, only_right, changed
