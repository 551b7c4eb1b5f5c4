"""In-process, numpy-only inference for LLMRouter's knn, svm, mlp, mf and elo routers, read from a safe artifact,
plus smallest_llm / largest_llm. Each adapter returns a probability per tier (the artifact's tier order)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from gatekit.routing.artifact import Artifact, ArtifactError


class Adapter(Protocol):
    strategy: str
    tiers: list[str]
    needs_encoder: bool

    def probabilities(self, x: np.ndarray | None) -> np.ndarray: ...


def _array(artifact: Artifact, name: str, ndim: int) -> np.ndarray:
    arr = artifact.arrays.get(name)
    if arr is None:
        raise ArtifactError(f"{artifact.uri or 'artifact'}: `{artifact.strategy}` needs array `{name}`")
    if arr.ndim != ndim:
        raise ArtifactError(f"{artifact.uri or 'artifact'}: array `{name}` must be {ndim}-D, is {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


class KnnAdapter:
    """LLMRouter knnrouter (sklearn KNeighborsClassifier, cosine metric): vote share of the k nearest prompts."""

    needs_encoder = True

    def __init__(self, artifact: Artifact) -> None:
        self.strategy, self.tiers = "knn", artifact.tiers
        x = _array(artifact, "embeddings", 2)
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        self._x = x / np.where(norms > 0, norms, 1.0)
        self._y = np.asarray(artifact.arrays.get("labels", np.zeros(0)), dtype=np.int64)
        if self._y.shape != (len(x),) or (self._y.size and (self._y.min() < 0 or self._y.max() >= len(self.tiers))):
            raise ArtifactError("knn: `labels` must hold one tier index per embedding")
        self._k = min(int(artifact.params.get("n_neighbors", 5)), len(x))
        self._distance = artifact.params.get("weights", "uniform") == "distance"

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        assert x is not None
        sims = self._x @ (x / (np.linalg.norm(x) or 1.0))
        top = np.argpartition(-sims, self._k - 1)[: self._k]
        weights = 1.0 / np.maximum(1.0 - sims[top], 1e-9) if self._distance else np.ones(self._k)
        votes = np.bincount(self._y[top], weights=weights, minlength=len(self.tiers))
        return votes / votes.sum()


class SvmAdapter:
    """LLMRouter svmrouter (sklearn SVC, binary): sigmoid of the decision function as P(second tier)."""

    needs_encoder = True

    def __init__(self, artifact: Artifact) -> None:
        self.strategy, self.tiers = "svm", artifact.tiers
        if len(self.tiers) != 2:
            raise ArtifactError(f"svm artifacts route between exactly two tiers, this one has {len(self.tiers)}")
        self._sv = _array(artifact, "support_vectors", 2)
        self._coef = _array(artifact, "dual_coef", 2)[0]
        self._intercept = float(_array(artifact, "intercept", 1)[0])
        self._kernel = artifact.params.get("kernel", "rbf")
        self._gamma = float(artifact.params.get("gamma", 1.0))
        if self._kernel not in ("rbf", "linear"):
            raise ArtifactError(f"svm kernel `{self._kernel}` is not served in-process (rbf, linear are)")
        self._sv_sq = (self._sv**2).sum(axis=1)

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        assert x is not None
        dots = self._sv @ x
        if self._kernel == "rbf":
            k = np.exp(-self._gamma * np.maximum(self._sv_sq - 2 * dots + float(x @ x), 0.0))
        else:
            k = dots
        decision = float(self._coef @ k + self._intercept)
        p = 1.0 / (1.0 + math.exp(-decision))
        return np.array([1.0 - p, p])


class MlpAdapter:
    """LLMRouter mlprouter (torch MLPClassifierNN state dict, converted): softmax of the last layer."""

    needs_encoder = True
    ACTIVATIONS: ClassVar[dict[str, Callable[[np.ndarray], np.ndarray]]] = {
        "relu": lambda v: np.maximum(v, 0.0),
        "tanh": np.tanh,
        "logistic": lambda v: 1.0 / (1.0 + np.exp(-v)),
        "identity": lambda v: v,
    }

    def __init__(self, artifact: Artifact) -> None:
        self.strategy, self.tiers = "mlp", artifact.tiers
        n = int(artifact.params.get("layers", 0))
        if n < 1:
            raise ArtifactError("mlp: `layers` must be >= 1")
        self._w = [_array(artifact, f"layer{i}.weight", 2) for i in range(n)]
        self._b = [_array(artifact, f"layer{i}.bias", 1) for i in range(n)]
        act = artifact.params.get("activation", "relu")
        if act not in self.ACTIVATIONS:
            raise ArtifactError(f"mlp: unknown activation `{act}`")
        self._act = self.ACTIVATIONS[act]
        if self._w[-1].shape[0] != len(self.tiers):
            raise ArtifactError("mlp: output layer size differs from the number of tiers")

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        assert x is not None
        h = x
        for w, b in zip(self._w[:-1], self._b[:-1], strict=True):
            h = self._act(w @ h + b)
        return _softmax(self._w[-1] @ h + self._b[-1])


class MfAdapter:
    """LLMRouter mfrouter (BilinearMF): delta(M, q) = w . (normalize(P_M) * (W_text q)), softmax over tiers."""

    needs_encoder = True

    def __init__(self, artifact: Artifact) -> None:
        self.strategy, self.tiers = "mf", artifact.tiers
        p = _array(artifact, "P", 2)
        self._p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
        self._proj = _array(artifact, "text_proj", 2)
        self._w = _array(artifact, "classifier", 2)[0]
        if self._p.shape[0] != len(self.tiers):
            raise ArtifactError("mf: one latent row per tier expected")

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        assert x is not None
        q = self._proj @ x
        return _softmax((self._p * q) @ self._w)


class EloAdapter:
    """LLMRouter elorouter: query-independent Elo ratings; P(tier) from the Elo expected score."""

    needs_encoder = False

    def __init__(self, artifact: Artifact) -> None:
        self.strategy, self.tiers = "elo", artifact.tiers
        ratings: dict[str, Any] = artifact.params.get("ratings") or {}
        if set(ratings) != set(self.tiers):
            raise ArtifactError("elo: `ratings` must rate every tier")
        r = np.array([float(ratings[t]) for t in self.tiers])
        self._p = _softmax(r * math.log(10) / 400.0)

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        return self._p


class FixedAdapter:
    """smallest_llm / largest_llm: always the cheapest / the highest-quality tier. Needs no artifact."""

    needs_encoder = False

    def __init__(self, strategy: str, tiers: list[str], pick: str) -> None:
        self.strategy, self.tiers = strategy, tiers
        self._p = np.array([1.0 if t == pick else 0.0 for t in tiers])

    def probabilities(self, x: np.ndarray | None) -> np.ndarray:
        return self._p


ARTIFACT_ADAPTERS: dict[str, type] = {
    "knn": KnnAdapter,
    "svm": SvmAdapter,
    "mlp": MlpAdapter,
    "mf": MfAdapter,
    "elo": EloAdapter,
}
