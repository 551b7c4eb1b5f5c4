"""The client SDKs through a rehearsed cloud target: a probe that runs the SDK flows of `make up`'s tests
(tests/surface/sdk_flows.py) against the rehearsal's replicas while they are up — the OpenAI SDK (chat with a tool
call, completions, responses, embeddings), the `anthropic` SDK (messages, streaming, the tool-use round trip) and the
404 flow — with a virtual key, from an address outside the admin networks (only the environment's exposure paths
answer there, as through the front door), and records them as one named check with per-flow evidence."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai

from gatekit.config import Environment
from gatekit.parity.matrix import Models
from gatekit.rehearse.processes import Running
from gatekit.rehearse.report import Report
from gatekit.rehearse.runner import Probe
from gatekit.rehearse.sweep_check import NON_ADMIN_ADDRESS
from tests.surface import sdk_flows
from tests.surface.sdk_flows import SdkGateway

CHECK = "client_sdks"
FLOWS = (
    "openai_chat_tool_round_trip",
    "openai_completions",
    "openai_responses",
    "openai_embeddings",
    "anthropic_messages_economy",
    "anthropic_messages_premium",
    "anthropic_messages_streaming",
    "anthropic_tool_use_round_trip",
    "anthropic_tool_use_streaming",
    "not_found_keeps_model",
    "not_found_keeps_tier",
)
ECONOMY_TIER = "economy"


def deployment_models(env: Environment) -> Models:
    """Economy, premium and embedding names. The rehearsal points every model at the demo provider keeping only names
    and tiers, so the embedding model is the one without a tier."""
    models = env.gateway.models
    embedding = next(m.model_name for m in models if m.model_info.get("mode") == "embedding" or m.tier is None)
    return Models(
        next(m.model_name for m in models if m.tier == "economy"),
        next(m.model_name for m in models if m.tier == "premium"),
        embedding,
    )


def _virtual_key(replica: Running, master_key: str) -> tuple[str, str]:
    """A key as a team would hand one to Claude Code (created from the admin address; the defaults' limits apply)."""
    alias = f"client-sdks-{secrets.token_hex(4)}"
    r = httpx.post(
        replica.base_url + "/key/generate",
        headers={"Authorization": f"Bearer {master_key}"},
        json={"key_alias": alias},
        timeout=60,
    )
    assert r.status_code == 200 and r.json().get("key"), f"/key/generate: {r.status_code} {r.text[:300]}"
    return r.json()["key"], alias


def client_sdks_probe(demo_url: str) -> Probe:
    """The probe for `Shared.extras`; `demo_url`: the rehearsal's demo provider (`Shared.mock_llm`)."""
    demo_root = demo_url.removesuffix("/v1")

    def probe(report: Report, replicas: list[Running], master_key: str, env: Environment) -> None:
        started = time.monotonic()
        models = deployment_models(env)
        evidence: dict[str, Any] = {}
        try:
            key, alias = _virtual_key(replicas[0], master_key)

            def on(replica: Running) -> SdkGateway:
                return SdkGateway(
                    base_url=replica.base_url,
                    key=key,
                    chat=models.chat,
                    premium=models.premium,
                    embedding=models.embedding,
                    answers=sdk_flows.upstream_names(env),
                    demo_url=demo_root,
                    source_address=NON_ADMIN_ADDRESS,
                )

            first, last = on(replicas[0]), on(replicas[-1])  # the 404 flows on the other replica (its own router)
            flows: dict[str, Callable[[], dict[str, Any]]] = {
                "openai_chat_tool_round_trip": lambda: sdk_flows.openai_chat_tool_round_trip(first),
                "openai_completions": lambda: sdk_flows.openai_completions(first),
                "openai_responses": lambda: sdk_flows.openai_responses(first),
                "openai_embeddings": lambda: sdk_flows.openai_embeddings(first),
                "anthropic_messages_economy": lambda: sdk_flows.anthropic_messages(first, models.chat),
                "anthropic_messages_premium": lambda: sdk_flows.anthropic_messages(first, models.premium),
                "anthropic_messages_streaming": lambda: sdk_flows.anthropic_messages_streaming(first),
                "anthropic_tool_use_round_trip": lambda: sdk_flows.anthropic_tool_use_round_trip(first),
                "anthropic_tool_use_streaming": lambda: sdk_flows.anthropic_tool_use_streaming(first),
                # One deployment, no fallback: a cooldown would make the next chat fail outright.
                "not_found_keeps_model": lambda: sdk_flows.not_found_keeps_serving(last, models.chat),
                # The tier (two deployments, falls back to premium): each gets its 404, then the tier still answers.
                # Embeddings: LiteLLM sends completions for names it knows as chat models (gpt-4o-mini) to chat.
                "not_found_keeps_tier": lambda: sdk_flows.not_found_keeps_serving(last, ECONOMY_TIER, "/v1/embeddings"),
            }
            assert tuple(flows) == FLOWS
            for name, flow in flows.items():
                evidence["failed_flow"] = name
                evidence[name] = flow()
            del evidence["failed_flow"]
        except (AssertionError, openai.APIError, anthropic.APIError, httpx.HTTPError) as exc:
            report.add(CHECK, False, error=f"{type(exc).__name__}: {exc}"[:4000], **evidence)
            return
        report.add(
            CHECK,
            True,
            seconds=round(time.monotonic() - started, 1),
            replicas=[replicas[0].name, replicas[-1].name],
            source_address=NON_ADMIN_ADDRESS,
            key_alias=alias,
            models={"chat": models.chat, "premium": models.premium, "embedding": models.embedding},
            flows=evidence,
        )

    return probe
