"""Sampled exploration: a small share of routed requests is also answered by the other tier, in the background.

Which requests: each routed request independently with probability `exploration_share` (not derived from anything
the client sends, so a client cannot ask for a second answer). The record id is LiteLLM's `litellm_call_id`, which
the client gets back as the `x-litellm-call-id` header. After the served answer succeeded, the hook calls the other
tier's model group through LiteLLM's router and appends two outcome records to the route feedback file
(gatekit.routing.feedback.feedback_file), one per tier, with the answer and `quality: null`. They are not training
pairs yet: a judge or a user scores each answer with `POST /gatekit/feedback` (same id and tier), and
`route train-outcomes` reads the scored records (the unscored ones are reported as skipped). The served request never
waits for, or fails because of, the exploration call; a failed exploration is logged and counted
(`gatekit_route_exploration_total{result}`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from gatekit.routing.context import window
from gatekit.routing.feedback import FeedbackStore, feedback_file
from gatekit.routing.metrics import routing_metrics

log = logging.getLogger("gatekit.routing.explore")
SOURCE = "exploration"


def explores(request_id: str, share: float, draw: Callable[[], float] = random.random) -> bool:
    """Sample a request with probability `share` (never one without an id to file its outcomes under)."""
    return bool(request_id) and share > 0.0 and draw() < share


def other_tier(tiers: list[str], served: str) -> str:
    """The cheapest tier answered -> the most expensive answers too; otherwise the cheapest does."""
    return tiers[-1] if served == tiers[0] else tiers[0]


def answer_text(response: Any) -> str:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""


def records(request_id: str, messages: list[dict[str, Any]], answers: dict[str, str]) -> list[dict[str, Any]]:
    text = window(messages).text
    now = round(time.time(), 3)
    return [{"id": request_id, "ts": now, "text": text, "tier": tier, "quality": None, "answer": answer,
             "source": SOURCE} for tier, answer in answers.items()]  # fmt: skip


async def explore(router: Any, request_id: str, messages: list[dict[str, Any]], served: str, served_answer: str,
                  other: str, store: FeedbackStore | None = None) -> bool:  # fmt: skip
    """Ask `other` the same conversation; write both answers as unscored outcome records. True on success."""
    try:
        response = await router.acompletion(model=other, messages=messages, metadata={"gatekit_exploration": True})
    except Exception as exc:  # a failed exploration must not touch the served request: logged and counted
        routing_metrics().explorations.labels(result="error").inc()
        log.warning("exploration of %s with tier %s failed: %s", request_id, other, exc)
        return False
    store = store or FeedbackStore(feedback_file())
    for record in records(request_id, messages, {served: served_answer, other: answer_text(response)}):
        await asyncio.to_thread(store.append, record)
    routing_metrics().explorations.labels(result="written").inc()
    return True
