"""What the routing engine needs from the environment, as plain data (rendered into the LiteLLM config file under
`gatekit_routing`, so the callback inside the proxy reads exactly what the config model validated)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gatekit.config import Environment
from gatekit.config.tenants import tenant_profiles

SPEC_KEY = "gatekit_routing"
EncoderKind = Literal["minilm-static", "longformer-static"]


@dataclass(frozen=True)
class EncoderSettings:
    kind: EncoderKind = "minilm-static"
    model_dir: str | None = None
    max_tokens: int = 256


@dataclass(frozen=True)
class TierSpec:
    name: str
    input_cost_per_million: float
    output_cost_per_million: float
    quality: float


@dataclass(frozen=True)
class RoutingSpec:
    alias: str
    strategy: str
    tiers: list[TierSpec]  # cheapest first
    artifact_uri: str | None = None
    on_load_failure: str = "fail-startup"
    default_profile: str = "balanced"
    profile_thresholds: dict[str, float] = field(
        default_factory=lambda: {"eco": 0.75, "balanced": 0.5, "precision": 0.25}
    )
    team_profiles: dict[str, str] = field(default_factory=dict)
    key_profiles: dict[str, str] = field(default_factory=dict)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    reload_interval_seconds: int = 15
    exploration_share: float = 0.0

    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    def tier(self, name: str) -> TierSpec:
        return next(t for t in self.tiers if t.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutingSpec:
        data = dict(data)
        data["tiers"] = [TierSpec(**t) for t in data["tiers"]]
        data["encoder"] = EncoderSettings(**data.get("encoder", {}))
        return cls(**data)


def _blended(tier: TierSpec) -> float:
    return tier.input_cost_per_million + tier.output_cost_per_million


def spec_from_env(env: Environment) -> RoutingSpec:
    gw = env.gateway
    ml = gw.routing.ml
    team_caps, key_caps = tenant_profiles(env.tenants)
    tiers = sorted(
        (
            TierSpec(name, t.input_cost_per_million, t.output_cost_per_million, t.quality)
            for name, t in gw.tiers.items()
            if gw.models_in_tier(name)
        ),
        key=lambda t: (_blended(t), t.quality),
    )
    return RoutingSpec(
        alias=ml.alias,
        strategy=ml.strategy,
        tiers=tiers,
        artifact_uri=ml.artifact_uri,
        on_load_failure=ml.on_load_failure,
        default_profile=ml.default_profile,
        profile_thresholds={str(k): v for k, v in ml.profile_thresholds.items()},
        team_profiles={**team_caps, **ml.team_profiles},  # `tenants:` profiles too (validation: no conflicts)
        key_profiles={**key_caps, **ml.key_profiles},
        encoder=EncoderSettings(ml.encoder.kind, ml.encoder.model_dir, ml.encoder.max_tokens),
        reload_interval_seconds=ml.reload_interval_seconds,
        exploration_share=ml.exploration_share,
    )
