"""Serve-time features of a conversation window: cheap (no model pass), numpy + tokenizers only.

x = [ static MiniLM embedding of the window (384, L2-normalised; the tokenizer keeps the window's END when it is longer
      than the encoder's max_tokens), surface features of the last user turn and the conversation (below) ]

The surface features describe shape, not topic, so they carry across benchmarks: length of the (cut) last turn,
digits, numbers and math operators (multi-step arithmetic), multiple-choice options, questions, line breaks, code
characters, non-ASCII letters (non-English), earlier turns and system prompt. All are computed on the cut window,
so their cost is bounded whatever the request size.
"""

from __future__ import annotations

import math
import re

import numpy as np
from tokenizers import Tokenizer

from gatekit.routing.context import Window
from gatekit.routing.encoder import StaticEncoder

FEATURE_SET = "window-v1"
SURFACE = ("last_len", "digits", "numbers", "math_ops", "choices", "questions", "lines", "code", "non_ascii",
           "turns", "system", "context_len")  # fmt: skip
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_MATH = re.compile("[=+*/^<>%$\u00d7\u00f7\u221a\u2211\u222b]")  # incl. multiplication, division, root, sum, integral
_CHOICE = re.compile(r"(?m)^\s*\(?[A-D][.)]\s")
_CODE = re.compile(r"[{};\[\]`]|def |class |return |import ")


def surface(w: Window) -> np.ndarray:
    last = w.last
    n = max(len(last), 1)
    context_len = max(len(w.text) - len(last), 0)
    return np.array(
        [
            math.log1p(len(last)) / math.log1p(1200),
            sum(c.isdigit() for c in last) / n,
            math.log1p(len(_NUMBER.findall(last))) / 4.0,
            math.log1p(len(_MATH.findall(last))) / 4.0,
            min(len(_CHOICE.findall(last)), 4) / 4.0,
            min(last.count("?"), 5) / 5.0,
            math.log1p(last.count("\n")) / 4.0,
            math.log1p(len(_CODE.findall(last))) / 4.0,
            sum(1 for c in last if ord(c) > 127 and c.isalpha()) / n,
            math.log1p(max(w.turns - 1, 0)) / 2.0,
            1.0 if w.text and context_len and not w.text.startswith(last) else 0.0,
            math.log1p(context_len) / math.log1p(1200),
        ],
        dtype=np.float32,
    )


class WindowFeaturizer:
    """Embedding of the window (tail-preserving truncation) + surface features. One instance per encoder."""

    def __init__(self, encoder: StaticEncoder) -> None:
        self.encoder = encoder
        tail = Tokenizer.from_str(encoder.tokenizer.to_str())
        tail.no_padding()
        # tokenizers' stub leaves enable_truncation's **kwargs (direction, stride, strategy) unannotated
        tail.enable_truncation(encoder.max_tokens, direction="left")  # pyright: ignore[reportUnknownMemberType]
        self._tail = tail
        self._table = encoder.table
        self.dim = int(self._table.shape[1]) + len(SURFACE)
        self.fingerprint = f"{FEATURE_SET}/{encoder.fingerprint}"

    def _pool(self, ids: list[int], special: list[int]) -> tuple[np.ndarray, int]:
        arr = np.asarray(ids, dtype=np.int64)
        body = arr[~np.asarray(special, dtype=bool)]
        if body.size == 0:
            return np.zeros(int(self._table.shape[1]), dtype=np.float32), 0
        pooled = self._table[body].mean(axis=0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / norm if norm > 0 else pooled).astype(np.float32), int(body.size)

    def embed(self, text: str) -> tuple[np.ndarray, int]:
        """Mean-pooled static embedding of the text's last max_tokens tokens, and that token count."""
        enc = self._tail.encode(text)
        return self._pool(enc.ids, enc.special_tokens_mask)

    def _legacy_len(self, tokens: int) -> float:
        return math.log1p(tokens) / math.log1p(self.encoder.max_tokens)

    def both(self, w: Window) -> tuple[np.ndarray, np.ndarray]:
        """(window-v1 features, legacy features) of one window; legacy = what knn/svm/mlp/mf artifacts were
        trained on: the embedding plus the encoder's length feature (identical to encoder.encode for short text)."""
        emb, tokens = self.embed(w.text)
        return np.concatenate([emb, surface(w)]), np.append(emb, np.float32(self._legacy_len(tokens)))

    def features(self, w: Window) -> np.ndarray:
        return self.both(w)[0]

    def legacy(self, w: Window) -> np.ndarray:
        emb, tokens = self.embed(w.text)
        return np.append(emb, np.float32(self._legacy_len(tokens)))

    def many(self, windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
        """Batch version of `both` (the tokenizer encodes the batch in parallel)."""
        if not windows:
            return np.zeros((0, self.dim), dtype=np.float32), np.zeros((0, self._table.shape[1] + 1), np.float32)
        feats: list[np.ndarray] = []
        legacy: list[np.ndarray] = []
        for w, enc in zip(windows, self._tail.encode_batch([w.text for w in windows]), strict=True):
            emb, tokens = self._pool(enc.ids, enc.special_tokens_mask)
            feats.append(np.concatenate([emb, surface(w)]))
            legacy.append(np.append(emb, np.float32(self._legacy_len(tokens))))
        return np.stack(feats), np.stack(legacy)
