"""TF-IDF features over word n-grams and character n-grams, as sparse rows in plain numpy.

Word unigrams and bigrams (with start/end markers, so "hi" alone differs from "hi, my laptop...")
carry meaning; character n-grams inside word boundaries absorb typos and inflections
("pasword", "unlocking"). Each block is TF-IDF weighted (sublinear term frequency), L2-normalised,
scaled by its block weight, and the concatenation is L2-normalised again.

A row is a pair of arrays ``(indices, values)``; a batch is :class:`SparseRows` (CSR layout).
Feature 0 is a constant bias that every row carries, so no row is ever empty.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]

BIAS = 0


class Doc(NamedTuple):
    """A message as the vectoriser sees it: normalised text and the lexicon families it mentions."""

    text: str
    concepts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the vectoriser extracts; the defaults were chosen by cross-validation."""

    char_min: int = 2
    char_max: int = 5
    word_weight: float = 1.0
    char_weight: float = 1.0
    concept_weight: float = 0.5
    bias_value: float = 1.0
    min_df: int = 1


@dataclass(frozen=True, slots=True)
class SparseRows:
    """A batch of sparse rows in CSR layout.

    Row ``i`` is ``indices[indptr[i]:indptr[i+1]]`` with ``values`` at the same positions.
    """

    indptr: npt.NDArray[np.int64]
    indices: IntArray
    values: FloatArray
    n_features: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: Sequence[int] | npt.NDArray[np.int64]) -> SparseRows:
        """The sub-batch made of ``rows``, in that order."""
        starts = self.indptr[:-1][rows]
        ends = self.indptr[1:][rows]
        lengths = ends - starts
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        picks = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
        return SparseRows(indptr, self.indices[picks], self.values[picks], self.n_features)


def word_grams(tokens: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams; bigrams include ``<s>``/``</s>`` boundary markers."""
    grams = list(tokens)
    padded = ["<s>", *tokens, "</s>"]
    grams.extend(f"{a} {b}" for a, b in pairwise(padded))
    return grams


@lru_cache(maxsize=8192)
def _word_char_grams(token: str, lo: int, hi: int) -> tuple[str, ...]:
    padded = f" {token} "
    n_chars = len(padded)
    return tuple(
        "#" + padded[i : i + n]
        for n in range(lo, min(hi, n_chars) + 1)
        for i in range(n_chars - n + 1)
    )


def char_grams(tokens: Sequence[str], lo: int, hi: int) -> list[str]:
    """Character n-grams of each word padded with spaces (scikit-learn's ``char_wb``)."""
    grams: list[str] = []
    for token in tokens:
        grams.extend(_word_char_grams(token, lo, hi))
    return grams


def _norm(values: FloatArray) -> float:
    """Euclidean norm without BLAS (whose threads stall on a busy machine)."""
    return math.sqrt(float(np.einsum("i,i->", values, values)))


class Vectoriser:
    """Learns a vocabulary and IDF weights from examples; turns text into sparse TF-IDF rows."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self.vocabulary: dict[str, int] = {}
        self.idf: FloatArray = np.ones(1, dtype=np.float32)

    @classmethod
    def restore(cls, config: FeatureConfig, grams: Sequence[str], idf: FloatArray) -> Vectoriser:
        """A fitted vectoriser from its parts (:attr:`grams` and :attr:`idf`)."""
        if len(idf) != len(grams) + 1:
            raise ValueError(f"{len(grams)} grams but {len(idf)} idf weights")
        vectoriser = cls(config)
        vectoriser.vocabulary = {gram: i + 1 for i, gram in enumerate(grams)}
        vectoriser.idf = idf
        return vectoriser

    @property
    def n_features(self) -> int:
        return len(self.vocabulary) + 1

    @property
    def grams(self) -> list[str]:
        """The vocabulary in feature order (feature ``i + 1`` is ``grams[i]``)."""
        return sorted(self.vocabulary, key=self.vocabulary.__getitem__)

    def _grams(self, doc: Doc) -> tuple[list[str], list[str], list[str]]:
        tokens = doc.text.split()
        cfg = self.config
        concepts = ["@" + c for c in doc.concepts]
        return word_grams(tokens), char_grams(tokens, cfg.char_min, cfg.char_max), concepts

    def fit(self, docs: Sequence[Doc]) -> SparseRows:
        """Learn vocabulary and IDF from ``docs``; return their rows."""
        doc_freq: Counter[str] = Counter()
        for parts in map(self._grams, docs):
            for part in parts:
                doc_freq.update(set(part))
        kept = sorted(g for g, df in doc_freq.items() if df >= self.config.min_df)
        vocabulary = {gram: i + 1 for i, gram in enumerate(kept)}
        n_docs = len(docs)
        idf = np.ones(len(vocabulary) + 1, dtype=np.float32)
        for gram, index in vocabulary.items():
            idf[index] = math.log((1 + n_docs) / (1 + doc_freq[gram])) + 1.0
        self.vocabulary, self.idf = vocabulary, idf
        return self.transform_many(docs)

    def transform(self, doc: Doc) -> tuple[IntArray, FloatArray]:
        """One row: feature indices and their values (bias first)."""
        word_part, char_part, concept_part = self._grams(doc)
        cfg = self.config
        blocks: list[tuple[IntArray, FloatArray]] = []
        for grams, weight in (
            (word_part, cfg.word_weight),
            (char_part, cfg.char_weight),
            (concept_part, cfg.concept_weight),
        ):
            counts = Counter(i for g in grams if (i := self.vocabulary.get(g)) is not None)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            val = ((1.0 + np.log(tf)) * self.idf[idx]).astype(np.float32)
            val *= weight / _norm(val)
            blocks.append((idx, val))
        if blocks:
            idx = np.concatenate([b[0] for b in blocks])
            val = np.concatenate([b[1] for b in blocks])
            val /= _norm(val)
        else:
            idx = np.zeros(0, dtype=np.int32)
            val = np.zeros(0, dtype=np.float32)
        indices = np.concatenate([np.array([BIAS], dtype=np.int32), idx])
        values = np.concatenate([np.array([cfg.bias_value], dtype=np.float32), val])
        return indices, values.astype(np.float32, copy=False)

    def transform_many(self, docs: Iterable[Doc]) -> SparseRows:
        rows = [self.transform(d) for d in docs]
        lengths = np.array([len(r[0]) for r in rows], dtype=np.int64)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, np.int32)
        values = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, np.float32)
        return SparseRows(indptr, indices, values, self.n_features)
