"""Sentence-embedding side of the search: one unit vector per article slot.

The encoder lives in :mod:`knowledge.semantic` (an optional extra); without it the
knowledge base runs lexical-only. Article vectors come from the encoder's on-disk
cache, keyed by content hash, so a restart or a reload only encodes what changed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from knowledge.article import Article
from knowledge.text import strip_markdown

if TYPE_CHECKING:
    FloatMatrix = npt.NDArray[np.float32]

log = logging.getLogger(__name__)

SemanticMode = Literal["auto", "on", "off"]

#: How much of the body (characters, after the title, summary and questions) is embedded:
#: about what fills the model's 256-token window.
BODY_CHARS = 1200


class EncoderLike(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def encode_cached(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def open_encoder(mode: SemanticMode, cache_dir: Path | None) -> tuple[EncoderLike | None, str]:
    """The encoder (or ``None``) and a one-line status for the start-up log."""
    if mode == "off":
        return None, "semantic search: off (turned off in the settings)"
    try:
        from knowledge.semantic import load_encoder
    except ImportError as exc:
        if mode == "on":
            raise
        log.debug("semantic encoder not importable: %s", exc)
        return None, "semantic search: off (install itbot[semantic])"
    encoder, status = load_encoder(mode, cache_dir)
    return encoder, status


def article_text(article: Article) -> str:
    """What is embedded for an article: title, summary, questions, start of the body.

    (Embedding the rest of a long body as further passages, scored by the best one,
    did not help on the generated questions nor on the external set, and cost 2-3x
    the encoding time, so one vector per article it is.)
    """
    body = " ".join(strip_markdown(article.body).split())
    parts = [article.title, article.summary, *article.questions, body[:BODY_CHARS]]
    return "\n".join(p for p in parts if p)


class DenseIndex:
    """Article vectors by slot, and cosine similarity of a question to every slot."""

    def __init__(self, encoder: EncoderLike, query_cache: int = 256) -> None:
        self.encoder = encoder
        self._vectors = np.zeros((0, encoder.dim), np.float32)
        self._alive = np.zeros(0, bool)
        self._queries: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._query_cache = query_cache

    def update(self, changed: Mapping[int, Article], removed: Sequence[int] = ()) -> None:
        """Encode the ``changed`` articles (via the disk cache) and retire ``removed`` slots."""
        for slot in removed:
            if slot < len(self._alive):
                self._alive[slot] = False
        if not changed:
            return
        slots = list(changed)
        vectors = self.encoder.encode_cached([article_text(changed[s]) for s in slots])
        size = max(len(self._alive), max(slots) + 1)
        if size > len(self._alive):
            capacity = max(size, int(len(self._alive) * 1.5))
            grown = np.zeros((capacity, self.encoder.dim), np.float32)
            grown[: len(self._vectors)] = self._vectors
            self._vectors = grown
            self._alive = np.pad(self._alive, (0, capacity - len(self._alive)))
        self._vectors[slots] = vectors
        self._alive[slots] = True

    def query_vector(self, text: str) -> npt.NDArray[np.float32]:
        cached = self._queries.get(text)
        if cached is None:
            cached = self.encoder.encode([text])[0]
            self._queries[text] = cached
            if len(self._queries) > self._query_cache:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(text)
        return cached

    def score(self, text: str, n_slots: int) -> npt.NDArray[np.float32]:
        """Cosine similarity of ``text`` to every slot (-1 for empty or retired slots)."""
        scores = np.full(n_slots, -1.0, np.float32)
        n = min(n_slots, len(self._vectors))
        if n:
            # einsum's own loop, not BLAS: a multi-threaded BLAS matrix-vector product is
            # 0.06 ms when the CPUs are idle but spins for 10+ ms when they are busy
            sims = np.einsum("ij,j->i", self._vectors[:n], self.query_vector(text))
            scores[:n] = np.where(self._alive[:n], sims, -1.0)
        return scores
