"""Every LLMRouter router name resolves here: to an in-process adapter, to an llmrouter-lib delegate when the
`llmrouter` extra is installed, or to a StrategyUnavailable error that says exactly what is missing."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from gatekit.routing.adapters import ARTIFACT_ADAPTERS, Adapter, FixedAdapter
from gatekit.routing.artifact import Artifact, ArtifactError
from gatekit.routing.spec import RoutingSpec

FIXED = ("smallest_llm", "largest_llm")
# LLMRouter router name -> class in llmrouter.models
DELEGATED: dict[str, str] = {
    "routerdc": "DCRouter",
    "automix": "AutomixRouter",
    "hybrid_llm": "HybridLLMRouter",
    "graphrouter": "GraphRouter",
    "causallm": "CausalLMRouter",
    "knnmultiround": "KNNMultiRoundRouter",
    "llmmultiround": "LLMMultiRoundRouter",
    "router_r1": "RouterR1",
    "gmtrouter": "GMTRouter",
    "personalized": "PersonalizedRouter",
    "tsrouter": "TSRouter",
}
IN_PROCESS = (*ARTIFACT_ADAPTERS, *FIXED)
ALL_STRATEGIES = (*IN_PROCESS, *DELEGATED)


class StrategyUnavailable(RuntimeError):
    """A configured strategy that cannot serve. Raised at load; never replaced by a random pick."""


def llmrouter_installed() -> bool:
    return importlib.util.find_spec("llmrouter") is not None


class DelegateAdapter:
    """Runs an llmrouter-lib router in-process (its own formats, its own encoder). Only with the `llmrouter` extra;
    its artifacts are LLMRouter's (pickle / torch), which is why the in-process strategies exist."""

    needs_encoder = False

    def __init__(self, strategy: str, tiers: list[str], router: Any) -> None:
        self.strategy, self.tiers, self._router = strategy, tiers, router
        self.prompt: str | None = None

    def choose(self, prompt: str) -> str:
        model = self._router.route_single({"query": prompt}).get("model_name")
        if model not in self.tiers:
            raise StrategyUnavailable(f"llmrouter `{self.strategy}` chose `{model}`, which is not a tier")
        return str(model)

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        raise StrategyUnavailable("delegated strategies decide on the prompt text; call choose()")


def _delegate(spec: RoutingSpec) -> DelegateAdapter:
    name = spec.strategy
    if not llmrouter_installed():
        raise StrategyUnavailable(
            f"strategy `{name}` needs the `llmrouter` extra (llmrouter-lib + torch) — not installed. "
            f"In-process strategies: {', '.join(IN_PROCESS)}"
        )
    if not spec.llmrouter_config:
        raise StrategyUnavailable(
            f"strategy `{name}` is delegated to llmrouter-lib and needs `routing.ml.llmrouter_config` "
            "(the LLMRouter YAML with its trained model paths)"
        )
    if not Path(spec.llmrouter_config).is_file():
        raise StrategyUnavailable(f"strategy `{name}`: llmrouter config {spec.llmrouter_config} does not exist")
    models = importlib.import_module("llmrouter.models")
    router = getattr(models, DELEGATED[name])(spec.llmrouter_config)
    return DelegateAdapter(name, spec.tier_names, router)


def build_adapter(spec: RoutingSpec, artifact: Artifact | None) -> Adapter | DelegateAdapter:
    """Resolve `spec.strategy`; `artifact` is required by the trained in-process strategies."""
    name = spec.strategy
    tiers = spec.tier_names
    if name == "smallest_llm":
        return FixedAdapter(name, tiers, tiers[0])
    if name == "largest_llm":
        return FixedAdapter(name, tiers, max(spec.tiers, key=lambda t: (t.quality, tiers.index(t.name))).name)
    if name in DELEGATED:
        return _delegate(spec)
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
