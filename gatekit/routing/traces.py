"""Turn gateway request logs into LLMRouter routing rows ({"query", "model_name", "performance", ...}).

Input: JSON lines of LiteLLM's StandardLoggingPayload (what LiteLLM's logging callbacks — s3, gcs_bucket, generic
API, a CustomLogger — write per request): `messages`, `model_group`, `status`, `metadata`. The tier is the model group
when it is a tier, or the tier of the deployment / model group named. Performance is the quality feedback when the
request carries one (`metadata.gatekit_feedback` or `metadata.requester_metadata.gatekit_feedback`, 0..1), else 1.0
for a success and 0.0 for a failure. Requests to the routed alias are attributed to the tier that served them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from gatekit.config import Environment


def tier_lookup(env: Environment) -> dict[str, str]:
    """Model-group or deployment name -> tier."""
    out = {name: name for name in env.gateway.tiers}
    for model in env.gateway.models:
        if model.tier:
            out[model.model_name] = model.tier
    return out


def _prompt(payload: Mapping[str, Any]) -> str | None:
    messages: Any = payload.get("messages")
    if isinstance(messages, list):
        for item in reversed(cast("list[Any]", messages)):
            message = cast("dict[str, Any]", item) if isinstance(item, dict) else None
            if message is not None and message.get("role") == "user":
                content: Any = message.get("content")
                if isinstance(content, list):  # OpenAI content parts
                    parts = [cast("dict[str, Any]", p) for p in cast("list[Any]", content) if isinstance(p, dict)]
                    content = " ".join(str(p.get("text", "")) for p in parts)
                return str(content) if content else None
    prompt = payload.get("prompt")
    return str(prompt) if prompt else None


def _feedback(metadata: Mapping[str, Any]) -> float | None:
    sources: tuple[Any, ...] = (metadata, metadata.get("requester_metadata") or {})
    for source in sources:
        value: Any = cast("Mapping[str, Any]", source).get("gatekit_feedback") if isinstance(source, Mapping) else None
        if value is not None:
            return max(0.0, min(1.0, float(value)))
    return None


def _tier(payload: Mapping[str, Any], lookup: Mapping[str, str]) -> str | None:
    metadata: dict[str, Any] = payload.get("metadata") or {}
    hidden: dict[str, Any] = payload.get("hidden_params") or {}
    info: dict[str, Any] = hidden.get("model_info") or metadata.get("model_info") or {}
    candidates: list[Any] = [
        info.get("gatekit_tier"),
        payload.get("model_group"),
        metadata.get("model_group"),
        payload.get("model"),
    ]
    for name in candidates:
        if name and str(name) in lookup:
            return lookup[str(name)]
    return None


def export_rows(payloads: Iterable[Mapping[str, Any]], lookup: Mapping[str, str],
                skipped: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Routing rows; every payload not exported is counted in `skipped` by reason (no prompt / no tier)."""
    skipped = skipped if skipped is not None else {}
    for payload in payloads:
        prompt, tier = _prompt(payload), _tier(payload, lookup)
        if not prompt or not tier:
            reason = "no user prompt" if not prompt else "model is not a tier or a tier's deployment"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        metadata: dict[str, Any] = payload.get("metadata") or {}
        feedback = _feedback(metadata)
        performance = (
            feedback if feedback is not None else (1.0 if payload.get("status", "success") == "success" else 0.0)
        )
        yield {
            "query": prompt,
            "model_name": tier,
            "performance": performance,
            "task_name": "gateway",
            "source_id": payload.get("id") or payload.get("trace_id"),
            "cost": payload.get("response_cost"),
        }


def read_payloads(lines: Iterable[str], skipped: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """JSON objects of the lines; malformed lines are counted in `skipped` (when given) instead of stopping."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            payload: Any = json.loads(line)
        except ValueError:
            if skipped is None:
                raise
            skipped["not JSON"] = skipped.get("not JSON", 0) + 1
            continue
        if isinstance(payload, dict):
            yield cast("dict[str, Any]", payload)
        elif skipped is not None:
            skipped["not a JSON object"] = skipped.get("not a JSON object", 0) + 1
