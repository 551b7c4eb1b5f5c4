"""Decision rule, profiles, per-key/team defaults, and numpy adapters against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from gatekit.routing.adapters import KnnAdapter, MlpAdapter, SvmAdapter
from gatekit.routing.artifact import ArtifactFiles, build_files, parse, write_artifact
from gatekit.routing.encoder import load_encoder
from gatekit.routing.engine import RoutingEngine
from tests.routing.conftest import spec_with

ENC = {"kind": "minilm-static", "dim": 385}


def _artifact(strategy, tiers, params, arrays, fingerprint="x"):
    return parse(ArtifactFiles(build_files(strategy, tiers, params, arrays, {**ENC, "fingerprint": fingerprint}, "t")))


def _knn_engine(spec, tmp_path, premium_votes: int, **changes):
    """A knn artifact where every prompt has 5 neighbours, `premium_votes` of them premium: score = votes / 5."""
    encoder = load_encoder(spec.encoder)
    x = np.tile(encoder.encode("anything at all"), (5, 1))
    labels = np.array([1] * premium_votes + [0] * (5 - premium_votes), dtype=np.int32)
    arrays = {"embeddings": x, "labels": labels}
    encoder_info = {**ENC, "fingerprint": encoder.fingerprint}
    blobs = build_files("knn", ["economy", "premium"], {"n_neighbors": 5}, arrays, encoder_info, "t")
    write_artifact(tmp_path / "knn", blobs)
    engine = RoutingEngine(spec_with(spec, artifact_uri=str(tmp_path / "knn"), **changes))
    engine.load()
    return engine


def test_profiles_shift_the_threshold(spec, tmp_path):
    engine = _knn_engine(spec, tmp_path, premium_votes=3)  # score 0.6
    assert engine.decide("q", "balanced").tier == "premium"
    assert engine.decide("q", "eco").tier == "economy"  # eco needs >= 0.75
    assert engine.decide("q", "precision").tier == "premium"
    low = _knn_engine(spec, tmp_path / "low", premium_votes=2)  # score 0.4
    assert low.decide("q", "balanced").tier == "economy"
    assert low.decide("q", "precision").tier == "premium"  # precision sends >= 0.25 up
    assert abs(low.decide("q").score - 0.4) < 1e-6


def test_key_and_team_defaults(spec, tmp_path):
    engine = _knn_engine(
        spec, tmp_path, premium_votes=3, key_profiles={"batch-jobs": "eco"}, team_profiles={"research": "precision"}
    )
    assert engine.profile_for(None) == "balanced"
    assert engine.profile_for(None, team="research") == "precision"
    assert engine.profile_for(None, key_alias="batch-jobs", team="research") == "eco"  # key wins over team
    # the key's profile caps the header: a request may ask cheaper, never more premium (clamped)
    assert engine.profile_for("balanced", key_alias="batch-jobs") == "eco"
    assert engine.profile_for("eco", team="research") == "eco"


def test_knn_adapter_matches_sklearn():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 16)).astype(np.float32), rng.integers(0, 2, 200)
    queries = rng.normal(size=(100, 16)).astype(np.float32)
    ref = KNeighborsClassifier(n_neighbors=5, metric="cosine").fit(x, y)
    ours = KnnAdapter(_artifact("knn", ["a", "b"], {"n_neighbors": 5}, {"embeddings": x, "labels": y.astype(np.int32)}))
    np.testing.assert_allclose([ours.probabilities(q) for q in queries], ref.predict_proba(queries), atol=1e-6)


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_svm_adapter_matches_sklearn(kernel):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 12)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 > 0.3).astype(int)
    ref = SVC(kernel=kernel, gamma="scale").fit(x, y)
    arrays = {"support_vectors": ref.support_vectors_, "dual_coef": ref.dual_coef_, "intercept": ref.intercept_}
    ours = SvmAdapter(_artifact("svm", ["a", "b"], {"kernel": kernel, "gamma": float(ref._gamma)}, arrays))
    queries = rng.normal(size=(200, 12)).astype(np.float32)
    assert np.array_equal([int(ours.probabilities(q)[1] > 0.5) for q in queries], ref.predict(queries))


def test_mlp_adapter_computes_the_forward_pass():
    rng = np.random.default_rng(3)
    w0, b0 = rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    w1, b1 = rng.normal(size=(2, 8)).astype(np.float32), rng.normal(size=2).astype(np.float32)
    arrays = {"layer0.weight": w0, "layer0.bias": b0, "layer1.weight": w1, "layer1.bias": b1}
    ours = MlpAdapter(_artifact("mlp", ["a", "b"], {"layers": 2, "activation": "relu"}, arrays))
    q = rng.normal(size=4).astype(np.float32)
    logits = w1 @ np.maximum(w0 @ q + b0, 0) + b1
    np.testing.assert_allclose(ours.probabilities(q), np.exp(logits) / np.exp(logits).sum(), rtol=1e-5)
