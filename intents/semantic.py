"""Sentence-embedding similarity to the examples, when an encoder is given.

Embeddings know that "my mobile got nicked" is close to "my phone was stolen" although the two
share no words; the lexical classifier cannot. The score per intent is the cosine similarity of
the message to its nearest example of that intent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from intents.types import Encoder

F32 = npt.NDArray[np.float32]


def encode_examples(encoder: Encoder, texts: Sequence[str]) -> F32:
    """Example vectors, through the encoder's own disk cache when it has one."""
    cached = getattr(encoder, "encode_cached", None)
    vectors = cached(texts) if callable(cached) else encoder.encode(texts)
    return _checked(np.asarray(vectors, dtype=np.float32), len(texts))


def _checked(vectors: F32, n: int) -> F32:
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise ValueError(f"encoder returned shape {vectors.shape} for {n} texts; want (n, dim)")
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    result: F32 = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return result


def held_out_scores(
    vectors: F32, labels: npt.NDArray[np.int64], folds: npt.NDArray[np.int64], n_classes: int
) -> npt.NDArray[np.float64]:
    """Each example's per-intent scores against the examples outside its own fold."""
    sims = vectors @ vectors.T
    sims[folds[:, None] == folds[None, :]] = -1.0
    result = np.zeros((len(vectors), n_classes))
    for cls in range(n_classes):
        members = labels == cls
        if members.any():
            result[:, cls] = sims[:, members].max(axis=1)
    return result


class EmbeddingMatcher:
    """Per-intent nearest-example cosine similarity of a message's embedding."""

    def __init__(
        self,
        encoder: Encoder,
        vectors: F32,
        labels: npt.NDArray[np.int64],
        n_classes: int,
    ) -> None:
        order = np.argsort(labels, kind="stable")
        self.encoder = encoder
        self._vectors = np.ascontiguousarray(vectors[order])
        self._labels = labels[order]
        self._present = np.isin(np.arange(n_classes), self._labels)
        starts = np.searchsorted(self._labels, np.arange(n_classes))
        self._starts = np.minimum(starts, max(len(order) - 1, 0))
        self.n_classes = n_classes

    def encode(self, text: str) -> F32:
        vector: F32 = _checked(np.asarray(self.encoder.encode([text]), dtype=np.float32), 1)[0]
        return vector

    def scores(self, vector: F32) -> npt.NDArray[np.float64]:
        """Per intent: the best cosine similarity of ``vector`` to one of its examples."""
        best = np.zeros(self.n_classes)
        if len(self._vectors):
            # einsum, not BLAS: BLAS threads fight the encoder's own threads for the cores and
            # turn a 0.1 ms product into 10+ ms on a busy two-core machine.
            sims = np.einsum("ij,j->i", self._vectors, vector)
            best[self._present] = np.maximum.reduceat(sims, self._starts)[self._present]
        return best
