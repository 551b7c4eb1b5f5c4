"""Typed blocks for the LiteLLM settings platform teams use most, and the open `gateway.litellm` escape hatch.

Typed where it matters (client APIs, resilience, callbacks with secret references, spend-log retention, degraded
mode), open where it must be (`gateway.litellm.{litellm,router,general}_settings`: any setting of the installed
LiteLLM, names checked against its snapshot, inline secrets refused by the loader's scanner)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from gatekit.config.litellm_fields import OpenSection, section_model
from gatekit.config.secrets import SecretRef


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ClientApis(_Strict):
    """How the client APIs that are not chat completions reach deployments that only speak chat completions."""

    anthropic_messages: Literal["chat-completions", "native"] = Field(
        default="chat-completions",
        description="`/v1/messages` (Anthropic SDK, Claude Code) on OpenAI-compatible deployments: "
        "`chat-completions` translates to the upstream's chat completions (LiteLLM "
        "`use_chat_completions_url_for_anthropic_messages`); `native` forwards to the upstream Responses API. "
        "Anthropic and Bedrock deployments are served natively either way.",
    )
    responses: Literal["auto", "chat-completions", "native"] = Field(
        default="auto",
        description="`/v1/responses`: `chat-completions` bridges every deployment through chat completions "
        "(LiteLLM `use_chat_completions_api`); `native` uses the upstream Responses API; `auto` bridges the demo "
        "provider and OpenAI-compatible servers (an `openai/` model with an `api_base`) and keeps the rest native.",
    )
    list_routing_alias: bool = Field(
        default=True, description="List the ML routing alias (`auto`) in `/v1/models` when ML routing is on."
    )


ErrorKind = Literal[
    "BadRequestError",
    "AuthenticationError",
    "TimeoutError",
    "RateLimitError",
    "ContentPolicyViolationError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "NotFoundError",
]


class Resilience(_Strict):
    """Retries, cooldowns and the special fallbacks LiteLLM's router offers (plain fallbacks: `routing.fallbacks`)."""

    retry_policy: dict[ErrorKind, Annotated[int, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="Retries per error kind (LiteLLM `retry_policy`); unset kinds use `routing.num_retries`.",
    )
    retry_after_seconds: float = Field(
        default=0, ge=0, le=60, description="Minimum wait before a retry (LiteLLM adds exponential backoff and jitter)."
    )
    allowed_fails_policy: dict[ErrorKind, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Failures per minute, per error kind, before a deployment cools down (LiteLLM "
        "`allowed_fails_policy`); unset kinds use `routing.allowed_fails`.",
    )
    not_found_cools_down: bool = Field(
        default=False,
        description="Whether 404s cool a deployment down. Off (the default): a client calling a route the "
        "upstream lacks gets its 404, and the deployment keeps serving chat instead of failing over for "
        "`routing.cooldown_seconds`.",
    )
    context_window_fallbacks: dict[str, list[str]] = Field(
        default_factory=dict, description="Tier or model -> models with a larger context, tried on context overflow."
    )
    content_policy_fallbacks: dict[str, list[str]] = Field(
        default_factory=dict, description="Tier or model -> models tried when a provider refuses on content policy."
    )


class Langfuse(_Strict):
    host: str = Field(pattern=r"^https?://", description="Langfuse URL.")
    public_key: SecretRef
    secret_key: SecretRef


class S3Audit(_Strict):
    bucket: str = Field(min_length=3, description="Bucket for LiteLLM's per-request logs (the s3 callback).")
    region: str = Field(description="Bucket region.")
    path: str = Field(default="gatekit", description="Key prefix.")


class Callbacks(_Strict):
    """LiteLLM logging callbacks. Credentials are secret references, rendered as `os.environ/…`."""

    prometheus: bool = Field(
        default=True,
        description="LiteLLM's Prometheus metrics (requests, tokens, spend, latency, cooldowns per model/key/team) "
        "on `/metrics` beside gatekit's.",
    )
    otel: bool = Field(
        default=False, description="LiteLLM's OpenTelemetry callback (exports to `observability.otlp_endpoint`)."
    )
    langfuse: Langfuse | None = None
    s3_audit: S3Audit | None = None


class SpendLogs(_Strict):
    retention: str | None = Field(
        default=None,
        pattern=r"^\d+[dhm]$",
        description="Delete spend logs older than this (LiteLLM `maximum_spend_logs_retention_period`), e.g. `90d`.",
    )
    store_prompts: bool = Field(default=False, description="Store prompts and responses in spend logs.")
    batch_write_seconds: int = Field(
        default=10,
        ge=1,
        le=600,
        description="LiteLLM writes spend and key usage in batches this often (`proxy_batch_write_at`): longer means "
        "fewer database writes per request and later spend figures.",
    )


class Degraded(_Strict):
    """What the gateway does when a dependency goes away (decided per environment, tested)."""

    postgres_down: Literal["serve", "fail-closed"] = Field(
        default="fail-closed",
        description="Readiness is 503 `database-unavailable` either way and the master key keeps working. "
        "`fail-closed`: a virtual key the replica must look up gets 503 (never a 401 calling a valid key invalid). "
        "`serve` (LiteLLM `allow_requests_on_db_unavailable`): when the lookup times out or fails in transport, "
        "LiteLLM serves the request under a restricted fallback identity — no budget or per-key limit, and any "
        "bearer token alike —, else 503.",
    )
    redis_down: Literal["serve"] = Field(
        default="serve",
        description="Redis away: serving continues on in-memory state (cache misses, per-replica limits and "
        'cooldowns); `gatekit_dependency_up{dependency="redis"}` drops to 0 and readiness says `degraded`.',
    )


class Monitoring(_Strict):
    prometheus_operator: bool = Field(
        default=False,
        description="Kubernetes targets: also render a PodMonitor scraping `/metrics` and a PrometheusRule with the "
        "alerts equivalent to the CloudWatch alarms (needs the Prometheus Operator CRDs in the cluster).",
    )
    rule_labels: dict[str, str] = Field(
        default_factory=dict, description="Extra labels on both, e.g. the `release` your Prometheus selects."
    )


def _open(section: str) -> type[OpenSection]:
    return section_model(section)


_OPEN_SCHEMA = WithJsonSchema({"type": "object", "description": "Any setting of the installed LiteLLM."})
LiteLLMSettings = Annotated[_open("litellm_settings") | None, _OPEN_SCHEMA]  # type: ignore[valid-type]
RouterSettings = Annotated[_open("router_settings") | None, _OPEN_SCHEMA]  # type: ignore[valid-type]
GeneralSettings = Annotated[_open("general_settings") | None, _OPEN_SCHEMA]  # type: ignore[valid-type]

# Settings gatekit renders from typed fields: an override would silently fight them.
OWNED: dict[str, dict[str, str]] = {
    "litellm_settings": {
        "num_retries": "gateway.routing.num_retries",
        "request_timeout": "gateway.routing.timeout_seconds",
        "cache": "gateway.caching.enabled",
        "cache_params": "gateway.caching",
        "callbacks": "gateway.callbacks",
        "success_callback": "gateway.callbacks",
        "failure_callback": "gateway.callbacks",
        "use_chat_completions_url_for_anthropic_messages": "gateway.client_apis.anthropic_messages",
    },
    "router_settings": {
        "routing_strategy": "gateway.routing.strategy",
        "num_retries": "gateway.routing.num_retries",
        "timeout": "gateway.routing.timeout_seconds",
        "allowed_fails": "gateway.routing.allowed_fails",
        "cooldown_time": "gateway.routing.cooldown_seconds",
        "fallbacks": "gateway.routing.fallbacks",
        "retry_policy": "gateway.resilience.retry_policy",
        "allowed_fails_policy": "gateway.resilience.allowed_fails_policy",
        "context_window_fallbacks": "gateway.resilience.context_window_fallbacks",
        "content_policy_fallbacks": "gateway.resilience.content_policy_fallbacks",
    },
    "general_settings": {
        "master_key": "secrets.master_key",
        "database_url": "database",
        "allow_requests_on_db_unavailable": "gateway.degraded.postgres_down",
        "maximum_spend_logs_retention_period": "gateway.spend_logs.retention",
    },
}


class LiteLLMOverrides(_Strict):
    """Escape hatch: LiteLLM settings gatekit does not model, merged into the rendered config for every target.
    Names are checked against the installed LiteLLM; secrets must be `os.environ/NAME` references."""

    litellm_settings: LiteLLMSettings = None
    router_settings: RouterSettings = None
    general_settings: GeneralSettings = None

    @model_validator(mode="after")
    def _not_owned(self) -> LiteLLMOverrides:
        for section, owned in OWNED.items():
            for name in self.section(section):
                if name in owned:
                    raise ValueError(f"`{section}.{name}` is rendered by gatekit; set `{owned[name]}` instead")
        return self

    def section(self, section: str) -> dict[str, object]:
        value = getattr(self, section)
        return {} if value is None else value.model_dump(by_alias=True, exclude_unset=True)
