"""Train a router with llmrouter-lib's own trainers (the `train` extra: llmrouter-lib + torch, in its own venv) and
write it as a safe artifact. Never imported by the serving path.

Flow: encode the prompts with the serving encoder -> write LLMRouter's inputs (routing rows, a tensor of query
embeddings, the YAML) -> llmrouter's Router + Trainer -> read back the model the trainer saved (a pickle / torch
state dict that this process just wrote) -> convert to JSON + safetensors -> check the in-process adapter agrees
with llmrouter's own predictions on the training prompts -> write the artifact."""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gatekit.routing.adapters import ARTIFACT_ADAPTERS
from gatekit.routing.artifact import ArtifactFiles, build_files, parse, write_artifact
from gatekit.routing.dataset import LabelledPrompt, to_llmrouter_rows
from gatekit.routing.encoder import StaticEncoder, load_encoder
from gatekit.routing.spec import RoutingSpec

TRAINABLE = ("knn", "svm", "mlp", "mf", "elo")
MIN_AGREEMENT = 0.99
# LLMRouter router/trainer classes and default hyper-parameters per strategy.
LLMROUTER: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "knn": ("KNNRouter", "KNNRouterTrainer", "model.pkl", {"n_neighbors": 5, "metric": "cosine", "weights": "uniform"}),
    "svm": ("SVMRouter", "SVMRouterTrainer", "model.pkl", {"kernel": "rbf", "C": 1.0, "gamma": "scale"}),
    "mlp": (
        "MLPRouter",
        "MLPTrainer",
        "model.pt",
        {"hidden_layer_sizes": [128], "activation": "relu", "epochs": 60, "lr": 0.001, "batch_size": 32},
    ),
    "mf": ("MFRouter", "MFRouterTrainer", "model.pt", {"latent_dim": 64, "epochs": 40, "lr": 0.01, "batch_size": 32}),
    "elo": ("EloRouter", "EloRouterTrainer", "model.pkl", {}),
}


class TrainingUnavailable(RuntimeError):
    pass


def _training_module(name: str) -> Any:
    """A module of the training venv (torch, llmrouter-lib; .venv-train), imported lazily. Typed Any: neither is
    installed where the type checker runs."""
    return importlib.import_module(name)


def _llmrouter_models() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # llmrouter imports litellm; no network fetch
    try:
        return _training_module("llmrouter.models")
    except ImportError as exc:
        raise TrainingUnavailable(
            f"`gatekit route train` needs the `train` extra (llmrouter-lib + torch) — not importable here ({exc}). "
            "Run it from the training venv (.venv-train, see docs/routing.md)."
        ) from None


def _llmrouter_version() -> str:
    from importlib.metadata import version

    return f"llmrouter-lib {version('llmrouter-lib')}"


def _write_inputs(work: Path, prompts: Sequence[LabelledPrompt], spec: RoutingSpec, x: np.ndarray, strategy: str,
                  hparams: dict[str, Any]) -> Path:  # fmt: skip
    torch = _training_module("torch")

    rows = to_llmrouter_rows(prompts, spec.tiers)
    (work / "routing.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    torch.save(torch.tensor(x, dtype=torch.float32), work / "embeddings.pt")
    llm_data = {t.name: {"model": t.name, "size": t.name, "quality": t.quality} for t in spec.tiers}
    (work / "llm_data.json").write_text(json.dumps(llm_data))
    model_file = str(work / LLMROUTER[strategy][2])
    if strategy == "mf":
        hparams = {**hparams, "text_dim": int(x.shape[1])}
    cfg = {
        "data_path": {
            "routing_data_train": str(work / "routing.jsonl"),
            "query_embedding_data": str(work / "embeddings.pt"),
            "llm_data": str(work / "llm_data.json"),
        },
        "hparam": hparams,
        "model_path": {"ini_model_path": "", "save_model_path": model_file, "load_model_path": model_file},
        "metric": {"weights": {"performance": 1}},
    }
    path = work / "router.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _load_trained(path: Path) -> Any:
    """Read back what the llmrouter trainer saved a moment ago in this process's own temp dir (trusted input)."""
    load_model = _training_module("llmrouter.utils").load_model

    return load_model(str(path))


def _tier_index(tiers: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    return np.array([list(tiers).index(str(label)) for label in labels], dtype=np.int64)


def _convert_knn(
    router: Any, saved: Any, x: np.ndarray
) -> tuple[list[str], dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    tiers = [str(c) for c in saved.classes_]
    params = {"n_neighbors": int(saved.n_neighbors), "metric": saved.metric, "weights": saved.weights}
    arrays = {"embeddings": np.asarray(saved._fit_X, dtype=np.float32), "labels": np.asarray(saved._y, dtype=np.int32)}
    return tiers, params, arrays, _tier_index(tiers, saved.predict(x))


def _convert_svm(
    router: Any, saved: Any, x: np.ndarray
) -> tuple[list[str], dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    tiers = [str(c) for c in saved.classes_]
    if saved.kernel not in ("rbf", "linear"):
        raise TrainingUnavailable(f"svm kernel `{saved.kernel}` cannot be served in-process (use rbf or linear)")
    # sklearn exposes dual_coef_ / intercept_ so that dual_coef @ K(sv, x) + intercept > 0 means classes_[1].
    arrays = {
        "support_vectors": np.asarray(saved.support_vectors_, dtype=np.float32),
        "dual_coef": np.asarray(saved.dual_coef_, dtype=np.float32),
        "intercept": np.asarray(saved.intercept_, dtype=np.float32),
    }
    params = {"kernel": saved.kernel, "gamma": float(saved._gamma), "C": float(saved.C)}
    return tiers, params, arrays, _tier_index(tiers, saved.predict(x))


def _convert_mlp(
    router: Any, saved: Any, x: np.ndarray
) -> tuple[list[str], dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    torch = _training_module("torch")

    tiers = [str(router.idx_to_model[i]) for i in range(router.num_classes)]
    n = len([k for k in saved if k.endswith(".weight")])
    arrays: dict[str, np.ndarray] = {}
    for i in range(n):
        arrays[f"layer{i}.weight"] = saved[f"layers.{i}.weight"].numpy().astype(np.float32)
        arrays[f"layer{i}.bias"] = saved[f"layers.{i}.bias"].numpy().astype(np.float32)
    MLPClassifierNN = _training_module("llmrouter.models.mlprouter.router").MLPClassifierNN

    hidden = router.hparam.get("hidden_layer_sizes", [128, 64])
    model = MLPClassifierNN(router.input_dim, hidden, router.num_classes, router.hparam.get("activation", "relu"))
    model.load_state_dict(saved)
    pred = model.predict(torch.tensor(x)).numpy()
    return tiers, {"layers": n, "activation": router.hparam.get("activation", "relu")}, arrays, pred


def _convert_mf(
    router: Any, saved: Any, x: np.ndarray
) -> tuple[list[str], dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    torch = _training_module("torch")

    tiers = [str(router.idx_to_model[i]) for i in range(len(router.idx_to_model))]
    arrays = {
        "P": saved["P.weight"].numpy().astype(np.float32),
        "text_proj": saved["text_proj.weight"].numpy().astype(np.float32),
        "classifier": saved["classifier.weight"].numpy().astype(np.float32),
    }
    BilinearMF = _training_module("llmrouter.models.mfrouter.router").BilinearMF

    model = BilinearMF(router.dim, len(router.model_to_idx), router.text_dim)
    model.load_state_dict(saved)
    model.eval()
    with torch.no_grad():
        q = model.project_text(torch.tensor(x))
        pred = np.array([int(torch.argmax(model.score_all(row))) for row in q])
    return tiers, {"latent_dim": int(arrays["P"].shape[1])}, arrays, pred


def _convert_elo(
    router: Any, saved: Any, x: np.ndarray
) -> tuple[list[str], dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    scores = saved.to_dict() if hasattr(saved, "to_dict") else dict(saved)
    tiers = sorted(str(k) for k in scores)
    best = tiers.index(max(scores, key=lambda k: scores[k]))
    return tiers, {"ratings": {str(k): float(v) for k, v in scores.items()}}, {}, np.full(len(x), best)


CONVERTERS: dict[str, Callable[..., tuple[list[str], dict[str, Any], dict[str, np.ndarray], np.ndarray]]] = {
    "knn": _convert_knn,
    "svm": _convert_svm,
    "mlp": _convert_mlp,
    "mf": _convert_mf,
    "elo": _convert_elo,
}


def encoder_manifest(encoder: StaticEncoder) -> dict[str, Any]:
    return {
        "kind": encoder.kind,
        "fingerprint": encoder.fingerprint,
        "dim": encoder.dim,
        "max_tokens": encoder.max_tokens,
    }


def train_artifact(prompts: Sequence[LabelledPrompt], spec: RoutingSpec, strategy: str, out_dir: Path,
                   hparams: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Train with llmrouter-lib, convert, verify parity, write. Returns the manifest."""
    if strategy not in TRAINABLE:
        raise TrainingUnavailable(f"`{strategy}` is not trainable here; trainable: {', '.join(TRAINABLE)}")
    if len({p.tier for p in prompts}) < 2:
        raise TrainingUnavailable("training data must contain at least two tiers")
    models = _llmrouter_models()
    encoder = load_encoder(spec.encoder)
    x = encoder.encode_many([p.prompt for p in prompts])
    router_cls, trainer_cls, model_file, defaults = LLMROUTER[strategy]
    with tempfile.TemporaryDirectory(prefix="gatekit-train-") as tmp:
        work = Path(tmp)
        cfg = _write_inputs(work, prompts, spec, x, strategy, {**defaults, **(hparams or {})})
        router = getattr(models, router_cls)(str(cfg))
        getattr(models, trainer_cls)(router).train()
        saved = _load_trained(work / model_file)
        tiers, params, arrays, llmrouter_pred = CONVERTERS[strategy](router, saved, x)
    blobs = build_files(
        strategy, tiers, params, arrays, encoder_manifest(encoder), f"{_llmrouter_version()} {trainer_cls}",
        {"training_rows": len(prompts)},
    )  # fmt: skip
    adapter = ARTIFACT_ADAPTERS[strategy](parse(ArtifactFiles(dict(blobs), str(out_dir))))
    ours = np.array([int(np.argmax(adapter.probabilities(row))) for row in x])
    agreement = float((ours == llmrouter_pred).mean())
    if agreement < MIN_AGREEMENT:
        raise TrainingUnavailable(
            f"converted `{strategy}` router agrees with llmrouter-lib on only {agreement:.1%} of training prompts"
        )
    write_artifact(out_dir, blobs)
    manifest = json.loads(blobs["manifest.json"])
    manifest["parity_with_llmrouter"] = agreement
    return manifest
