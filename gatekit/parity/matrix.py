"""The parity matrix: one row per endpoint of the seed validation plan, each a request sent identically to both sides.

Values such as `{file_id}` are filled from an earlier row's answer on the same side (`capture`), so a batch refers to
the file that side created. Prompts carry a per-run token so the response cache never answers the first request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gatekit.demo.media import silent_wav

CHAT_MODEL = "demo-economy"
PREMIUM_MODEL = "demo-premium"
EMBEDDING_MODEL = "demo-embedding"
# LiteLLM's PROXY_DB_LOOKUP_STALL_WINDOW_SECONDS (30 s, its default) plus room: a probe outlasts one stall window.
READINESS_PROBE = 45.0


@dataclass(frozen=True)
class Models:
    """The model names a deployment serves (`--models ECONOMY,PREMIUM,EMBEDDING`); default: env `local`'s."""

    chat: str = CHAT_MODEL
    premium: str = PREMIUM_MODEL
    embedding: str = EMBEDDING_MODEL

    @classmethod
    def parse(cls, text: str) -> Models:
        names = [n.strip() for n in text.split(",")]
        if len(names) != 3 or not all(names):
            raise ValueError(f"--models wants ECONOMY,PREMIUM,EMBEDDING (three model names), not `{text}`")
        return cls(*names)


BATCH_LINE = (
    b'{"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", '
    b'"body": {"model": "demo-economy", "messages": [{"role": "user", "content": "hi"}]}}\n'
)


@dataclass(frozen=True)
class Row:
    name: str
    group: str
    method: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    upload: tuple[str, bytes, str] | None = None  # (filename, bytes, content type) as multipart field `file`
    # "master": the master key; "none": no key; "wrong": a key that is not the master key; "{name}": a captured key
    auth: str = "master"
    repeat: int = 1  # send N times, observe the last (caching)
    headers: tuple[str, ...] = ()  # response headers whose presence is compared
    capture: tuple[tuple[str, str], ...] = ()  # (name, top-level key of the JSON answer) pairs
    ids: bool = False  # also compare the set of `data[].id` values (model listings)
    fault: dict[str, Any] | None = None  # a demo-provider fault rule armed for this row only (needs the demo URL)
    needs_db: bool = False
    provider_wide: bool = False  # needs LiteLLM's provider-wide OpenAI default (files, batches): local runs only
    poll_seconds: float = 0.0  # resend until the answer is a 200 with a non-empty list (written asynchronously)
    # A probe: resend every 2 s until 200 for up to this long, as a platform's readiness probe retries before it acts
    # (LiteLLM answers 503 `"db": "stalled"` for 30 s after one slow pre-request database lookup).
    probe_seconds: float = 0.0
    non_admin: bool = False  # sent from the non-admin client address (gateway.exposure.admin_cidrs)
    # Shape paths LiteLLM fills asynchronously (e.g. a key's `last_active`, set after its first use): null on one side
    # and a value on the other is timing, not a difference; presence is still compared.
    nullable: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def chat_body(prompt: str, model: str = CHAT_MODEL, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream}


def build_matrix(token: str, faults: bool = True, models: Models | None = None) -> list[Row]:
    """The rows, in order (files before batches; fault rows last). `token` makes prompts unique per run; `faults`:
    include the rows that stage an upstream outage on the shared demo provider."""
    m = models or Models()
    api, health, mgmt, routing, obs = "API endpoints", "Health", "Management", "Routing & callbacks", "Observability"
    wav = silent_wav()
    rows = [
        Row("/v1/chat/completions", api, "POST", "/v1/chat/completions", chat_body(f"parity chat {token}", m.chat)),
        Row(
            "/v1/chat/completions (stream)",
            api,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity stream {token}", m.chat, stream=True),
        ),
        Row(
            "/v1/completions",
            api,
            "POST",
            "/v1/completions",
            {"model": m.chat, "prompt": f"parity completion {token}", "max_tokens": 16},
        ),
        Row("/v1/embeddings", api, "POST", "/v1/embeddings", {"model": m.embedding, "input": f"parity {token}"}),
        Row(
            "/v1/images/generations",
            api,
            "POST",
            "/v1/images/generations",
            {"model": m.chat, "prompt": f"parity image {token}", "n": 1, "response_format": "b64_json"},
        ),
        Row(
            "/v1/audio/transcriptions",
            api,
            "POST",
            "/v1/audio/transcriptions",
            form={"model": m.chat},
            upload=("parity.wav", wav, "audio/wav"),
        ),
        Row(
            "/v1/audio/speech",
            api,
            "POST",
            "/v1/audio/speech",
            {"model": m.chat, "input": f"parity speech {token}", "voice": "alloy", "response_format": "wav"},
        ),
        Row("/v1/models", api, "GET", "/v1/models", ids=True),
        Row("/v1/models (no key)", api, "GET", "/v1/models", auth="none", note="an unauthenticated client"),
        Row(
            "/v1/chat/completions (wrong key)",
            api,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity wrong key {token}", m.chat),
            auth="wrong",
            note="a key that is not the master key, DB-less",
        ),
        Row(
            "/v1/files (upload)",
            api,
            "POST",
            "/v1/files",
            form={"purpose": "batch"},
            upload=("parity.jsonl", BATCH_LINE, "application/jsonl"),
            capture=(("file_id", "id"),),
            provider_wide=True,
        ),
        Row("/v1/files (list)", api, "GET", "/v1/files", provider_wide=True),
        Row("/v1/files/{id}", api, "GET", "/v1/files/{file_id}", provider_wide=True),
        Row(
            "/v1/batches (create)",
            api,
            "POST",
            "/v1/batches",
            {"input_file_id": "{file_id}", "endpoint": "/v1/chat/completions", "completion_window": "24h"},
            capture=(("batch_id", "id"),),
            provider_wide=True,
        ),
        Row("/v1/batches/{id}", api, "GET", "/v1/batches/{batch_id}", provider_wide=True),
        Row("/health", health, "GET", "/health"),
        Row("/health/liveliness", health, "GET", "/health/liveliness", auth="none"),
        Row("/health/readiness", health, "GET", "/health/readiness", auth="none", probe_seconds=READINESS_PROBE),
        Row("/key/generate", mgmt, "POST", "/key/generate", {"models": [m.chat]}, needs_db=True),
        Row("/key/info", mgmt, "GET", "/key/info", needs_db=True),
        Row("/user/new", mgmt, "POST", "/user/new", {"user_email": "parity@example.com"}, needs_db=True),
        Row("/team/new", mgmt, "POST", "/team/new", {"team_alias": f"parity-{token}"}, needs_db=True),
        Row(
            "/model/new",
            mgmt,
            "POST",
            "/model/new",
            {"model_name": f"parity-{token}", "litellm_params": {"model": "openai/demo"}},
            needs_db=True,
        ),
        Row("/model/info", mgmt, "GET", "/model/info"),
        Row("/spend/logs", mgmt, "GET", "/spend/logs", needs_db=True),
        Row(
            "model group (premium tier)",
            routing,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity premium {token}", m.premium),
            note="a second model group through the same router strategy",
        ),
        Row(
            "unknown model",
            routing,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity unknown {token}", "no-such-model"),
        ),
        Row(
            "auto model (LLMRouter)",
            routing,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity auto {token}", "auto"),
            note="the routed alias; both sides load the same routing callback from the rendered config",
        ),
        Row("/active/callbacks", routing, "GET", "/active/callbacks", note="callbacks the proxy has loaded"),
        Row(
            "response cache (repeat request)",
            "Caching",
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity cache {token}", m.chat),
            repeat=2,
            headers=("x-litellm-cache-key",),
        ),
        Row("/cache/ping", "Caching", "GET", "/cache/ping"),
        Row("/metrics", obs, "GET", "/metrics", note="Prometheus exposition"),
        Row(
            "logging: call id header",
            obs,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity logging {token}", m.chat),
            headers=("x-litellm-call-id", "x-litellm-model-id", "x-gatekit-trace-id", "x-gatekit-config-version"),
        ),
        Row("/gatekit/config", "gatekit additions", "GET", "/gatekit/config", note="gatekit's config/sync status"),
    ]
    fallback = Row(
        "fallback (economy down)",
        routing,
        "POST",
        "/v1/chat/completions",
        chat_body(f"parity fallback {token}", "economy"),
        headers=("x-litellm-attempted-fallbacks", "x-gatekit-fallback"),
        fault={"path": "/v1/chat/completions", "status": 503, "model": "demo-economy"},
        note="the demo provider fails the economy tier; the rendered fallback economy -> premium answers",
    )
    return [*rows, fallback] if faults else rows
