"""Every strategy `routing.ml.strategy` accepts resolves here to an in-process adapter, or to a StrategyUnavailable
error that says exactly what is missing (LLMRouter routers gatekit does not serve are refused by config validation)."""

from __future__ import annotations

from gatekit.routing.adapters import ARTIFACT_ADAPTERS, Adapter, FixedAdapter
from gatekit.routing.artifact import Artifact, ArtifactError
from gatekit.routing.spec import RoutingSpec

FIXED = ("smallest_llm", "largest_llm")
# Exactly the names `routing.ml.strategy` accepts (gatekit.config.gateway.MLStrategy): all run in-process.
ALL_STRATEGIES = (*ARTIFACT_ADAPTERS, *FIXED)


class StrategyUnavailable(RuntimeError):
    """A configured strategy that cannot serve. Raised at load; never replaced by a random pick."""


def build_adapter(spec: RoutingSpec, artifact: Artifact | None) -> Adapter:
    """Resolve `spec.strategy`; `artifact` is required by the trained in-process strategies."""
    name = spec.strategy
    tiers = spec.tier_names
    if name == "smallest_llm":
        return FixedAdapter(name, tiers, tiers[0])
    if name == "largest_llm":
        return FixedAdapter(name, tiers, max(spec.tiers, key=lambda t: (t.quality, tiers.index(t.name))).name)
    if name not in ARTIFACT_ADAPTERS:
        raise StrategyUnavailable(f"unknown strategy `{name}`; known: {', '.join(ALL_STRATEGIES)}")
    if artifact is None:
        raise StrategyUnavailable(f"strategy `{name}` needs a trained artifact — none configured or shipped")
    if artifact.strategy != name:
        raise ArtifactError(f"artifact {artifact.uri} holds a `{artifact.strategy}` router, config asks for `{name}`")
    unknown = [t for t in artifact.tiers if t not in tiers]
    if unknown:
        raise ArtifactError(f"artifact {artifact.uri} routes to tiers {unknown} that this environment does not serve")
    return ARTIFACT_ADAPTERS[name](artifact)
