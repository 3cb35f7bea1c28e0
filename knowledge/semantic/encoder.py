"""The all-MiniLM-L6-v2 encoder: tokenizer, forward pass and disk cache behind one object."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from knowledge.semantic.cache import EmbeddingCache

if TYPE_CHECKING:
    from knowledge.semantic.base import TokenModel
    from knowledge.semantic.wordpiece import WordPiece

Floats = npt.NDArray[np.float32]


class MiniLMEncoder:
    """:class:`Encoder` over a tokenizer and a forward pass, with an optional disk cache."""

    def __init__(
        self,
        model: TokenModel,
        tokenizer: WordPiece,
        *,
        name: str,
        runtime: str,
        model_id: str,
        cache_dir: Path | None,
    ) -> None:
        self.name = name
        self.runtime = runtime
        self.model_id = model_id
        self.dim = model.dim
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self._encoded = 0
        self.cache: EmbeddingCache | None = None
        if cache_dir is not None:
            folder = cache_dir / "embeddings" / model_id.replace("/", "-").replace(":", "-")
            self.cache = EmbeddingCache(folder, model_id=model_id, dim=self.dim)

    @property
    def encoded(self) -> int:
        """How many texts have gone through the model since load (cache hits excluded)."""
        return self._encoded

    def encode(self, texts: Sequence[str]) -> Floats:
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.embed([self._tokenizer.encode(text) for text in texts])
        with self._lock:
            self._encoded += len(texts)
        return vectors

    def encode_cached(self, texts: Sequence[str]) -> Floats:
        if self.cache is None:
            return self.encode(texts)
        if isinstance(texts, str):
            raise TypeError("encode_cached() takes a sequence of texts, not one string")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        found = dict(zip(unique, self.cache.get_many(unique), strict=True))
        missing = [text for text, vector in found.items() if vector is None]
        if missing:
            vectors = self.encode(missing)
            self.cache.put_many(missing, vectors)
            found.update(zip(missing, vectors, strict=True))
        for row, text in enumerate(texts):
            out[row] = found[text]
        return out
