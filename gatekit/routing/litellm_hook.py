"""LiteLLM CustomLogger (public extension point) that serves the ML-routed alias.

LiteLLM imports `gatekit.routing.hook.ml_router` from `litellm_settings.callbacks` while it loads its config. That
instance reads the routing spec from that config file (`CONFIG_FILE_PATH`, key `gatekit_routing`), loads the encoder
and the artifact at once (so `fail-startup` stops the proxy before it serves) and starts the artifact watcher.

Per request to the alias: choose a tier, rewrite `model` to the tier's model group, record the decision (metadata,
`gatekit.route` span); the response carries x-gatekit-route-strategy / -model / -score headers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import yaml
from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from gatekit.routing.engine import RoutingEngine, RoutingUnavailable
from gatekit.routing.explore import answer_text, explore, explores, other_tier
from gatekit.routing.observers import notify
from gatekit.routing.spec import SPEC_KEY, RoutingSpec
from gatekit.routing.status import set_active

PROFILE_HEADER = "x-gatekit-route-profile"
METADATA_KEY = "gatekit_route"


CHAT_CALL_TYPES = {"completion", "acompletion", "text_completion", "atext_completion", "responses", "aresponses",
                   "anthropic_messages", "aanthropic_messages"}  # fmt: skip


def _call_type_name(call_type: Any) -> str:
    return str(getattr(call_type, "value", call_type) or "")


def conversation_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """What the router judges: the whole chat conversation (system prompt, earlier turns, last user turn), or the
    prompt of a text completion as one user turn. Cut to a window by the engine before any tokenizing."""
    messages: Any = data.get("messages")
    if not (isinstance(messages, list) and messages) and isinstance(data.get("input"), list):
        messages = data["input"]  # Responses API: `input` may be a list of role/content items
    items: list[Any] = cast("list[Any]", messages) if isinstance(messages, list) else []
    turns = [cast("dict[str, Any]", m) for m in items if isinstance(m, dict)]
    if any("role" in m for m in turns):
        system = data.get("system") or data.get("instructions")  # Anthropic Messages / Responses API
        head: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        return head + turns
    prompt: Any = data.get("prompt") if data.get("prompt") is not None else data.get("input")
    if isinstance(prompt, list):
        prompt = " ".join(str(p) for p in cast("list[Any]", prompt))
    return [{"role": "user", "content": "" if prompt is None else str(prompt)}]


def reject_non_chat(alias: str, call_type: Any, data: dict[str, Any]) -> None:
    """Only chat/text generation is routed; embeddings, images, audio, rerank... to the alias get a clear 400."""
    name = _call_type_name(call_type)
    if name in CHAT_CALL_TYPES or (not name and isinstance(data.get("messages"), list)):
        return
    raise HTTPException(
        status_code=400,
        detail=f"`{alias}` routes chat completions only; this is a `{name or 'non-chat'}` call — send it to a "
        "model group (e.g. an embedding model), not to the ML-routed alias",
    )


def _requested_profile(data: dict[str, Any]) -> str | None:
    request: dict[str, Any] = data.get("proxy_server_request") or {}
    headers: dict[str, Any] = request.get("headers") or {}
    lowered = {str(k).lower(): v for k, v in headers.items()}
    metadata: dict[str, Any] = data.get("metadata") or {}
    return lowered.get(PROFILE_HEADER) or metadata.get("gatekit_route_profile")


def spec_from_config_file(path: str | None) -> RoutingSpec:
    if not path:
        raise RuntimeError("ML routing callback: CONFIG_FILE_PATH is not set (start the gateway with `gatekit serve`)")
    document: dict[str, Any] = yaml.safe_load(Path(path).read_text()) or {}
    if SPEC_KEY not in document:
        raise RuntimeError(f"ML routing callback: {path} has no `{SPEC_KEY}` section (render it with gatekit)")
    return RoutingSpec.from_dict(document[SPEC_KEY])


class MLRoutingHook(CustomLogger):
    def __init__(self, engine: RoutingEngine) -> None:
        # LiteLLM leaves CustomLogger.__init__'s **kwargs unannotated (none are passed here)
        super().__init__()  # pyright: ignore[reportUnknownMemberType]
        self.engine = engine
        self._explorations: set[asyncio.Task[bool]] = set()  # keeps background exploration tasks referenced

    @classmethod
    def from_spec(cls, spec: RoutingSpec) -> MLRoutingHook:
        engine = RoutingEngine(spec)
        engine.load()  # raises for on_load_failure=fail-startup
        engine.start_watcher()
        set_active(engine)
        return cls(engine)

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        if data.get("model") != self.engine.spec.alias:
            return data
        reject_non_chat(self.engine.spec.alias, call_type, data)
        requested = _requested_profile(data)
        try:
            profile = self.engine.profile_for(
                requested,
                key_alias=getattr(user_api_key_dict, "key_alias", None),
                team=getattr(user_api_key_dict, "team_alias", None) or getattr(user_api_key_dict, "team_id", None),
            )
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        try:  # tokenizing + scoring run in a worker thread: the event loop never waits on a decision
            decision = await asyncio.to_thread(self.engine.decide, conversation_of(data), profile)
        except RoutingUnavailable as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        data["model"] = decision.tier
        metadata: dict[str, Any] = data.setdefault("metadata", {})
        metadata[METADATA_KEY] = {
            "strategy": decision.strategy,
            "tier": decision.tier,
            "score": round(decision.score, 4),
            "profile": decision.profile,
            "latency_ms": round(decision.latency_ms, 3),
            "artifact_version": decision.artifact_version,
            "requested_profile": requested,
            "profile_clamped": bool(requested and requested != decision.profile),
        }
        request_id = str(data.get("litellm_call_id") or "")
        tiers = self.engine.spec.tier_names
        if len(tiers) > 1 and explores(request_id, self.engine.spec.exploration_share):
            metadata[METADATA_KEY].update(explore=other_tier(tiers, decision.tier), request_id=request_id)
        notify(decision)  # e.g. the runtime's `gatekit.route` span (gatekit.routing.observers)
        return data

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        """A sampled request (metadata `explore`) is also answered by the other tier, in the background."""
        params: dict[str, Any] = kwargs.get("litellm_params") or {}
        metadata: dict[str, Any] = params.get("metadata") or {}
        found: Any = metadata.get(METADATA_KEY)
        if not isinstance(found, dict):
            return
        route = cast("dict[str, Any]", found)
        if not route.get("explore"):
            return
        from litellm.proxy import proxy_server  # the proxy's router (the hook only runs inside the proxy)

        if proxy_server.llm_router is None:
            raise RuntimeError("exploration needs the proxy's LiteLLM router, which is not initialised")
        messages: list[dict[str, Any]] = list(kwargs.get("messages") or [])
        answer = answer_text(response_obj)
        job = explore(proxy_server.llm_router, route["request_id"], messages, route["tier"], answer, route["explore"])
        task = asyncio.create_task(job)
        self._explorations.add(task)
        task.add_done_callback(self._explorations.discard)

    async def async_post_call_response_headers_hook(
        self,
        data: dict[str, Any],
        user_api_key_dict: Any,
        response: object,
        request_headers: dict[str, str] | None = None,
        litellm_call_info: dict[str, object] | None = None,
    ) -> dict[str, str] | None:
        metadata: dict[str, Any] = data.get("metadata") or {}
        route: Any = metadata.get(METADATA_KEY)
        if not route:
            return None
        info: object = (litellm_call_info or {}).get("model_info") or {}
        model: Any = cast("dict[str, Any]", info).get("gatekit_deployment") if isinstance(info, dict) else None
        return {
            "x-gatekit-route-strategy": str(route["strategy"]),
            "x-gatekit-route-model": str(model or route["tier"]),
            "x-gatekit-route-tier": str(route["tier"]),
            "x-gatekit-route-score": f"{route['score']:.4f}",
            "x-gatekit-route-artifact": str(route["artifact_version"] or "none"),
            "x-gatekit-route-profile": str(route["profile"]),
        }
