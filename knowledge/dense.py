"""Sentence-embedding side of the search: one unit vector per article slot.

The encoder lives in :mod:`knowledge.semantic` (an optional extra); without it the
knowledge base runs lexical-only. Article vectors come from the encoder's on-disk
cache, keyed by content hash, so a restart or a reload only encodes what changed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from knowledge.article import Article
from knowledge.lexical import release_memory
from knowledge.passages import passages, phrasings
from knowledge.text import strip_markdown

if TYPE_CHECKING:
    FloatMatrix = npt.NDArray[np.float32]

log = logging.getLogger(__name__)

SemanticMode = Literal["auto", "on", "off"]
#: told how far encoding has got: (texts done, texts in all), e.g. to draw a bar at start-up
Progress = Callable[[int, int], None]
#: texts encoded between two progress reports
PROGRESS_EVERY = 64

#: How much of the body (characters, after the title, summary and questions) is embedded:
#: about what fills the model's 256-token window.
BODY_CHARS = 1200
#: After putting in place the vectors of more articles than this at once (a first load),
#: hand the freed heap back to the OS.
RELEASE_AFTER = 100
#: A candidate's semantic score: this share of the whole article's cosine, the rest from
#: its best phrasing (title or question) and its best body passage (see :func:`rescore`).
WHOLE, PHRASING, PASSAGE = 0.4, 0.3, 0.3


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
        return None, "semantic search: off (install onnxruntime and the model: see the README)"
    encoder, status = load_encoder(mode, cache_dir)
    return encoder, status


def article_text(article: Article) -> str:
    """What is embedded for an article: title, summary, questions, start of the body.

    This vector ranks every article; the best candidates are then re-scored with their
    phrasings and passages too (:meth:`DenseIndex.rescore`).
    """
    body = " ".join(strip_markdown(article.body).split())
    parts = [article.title, article.summary, *article.questions, body[:BODY_CHARS]]
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class _Parts:
    """One slot's phrasing and passage vectors (float16 to halve their memory)."""

    phrasings: npt.NDArray[np.float16]
    passages: npt.NDArray[np.float16]
    councils: tuple[tuple[str, ...], ...]  # per passage; () = every council


@dataclass(frozen=True, slots=True)
class Encoded:
    """Every vector of one article version, ready for :meth:`DenseIndex.install`."""

    article: Article
    whole: npt.NDArray[np.float32]
    parts: _Parts


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


class QueryEncoder:
    """The index's encoder as another reader of the same messages sees it (the intent
    detector): one text at a time through the index's question cache, so a message encoded
    for its intent is not encoded again for the search; many texts (examples) through the
    encoder's disk cache. Vectors returned are shared with the cache: read, never write.
    A text without a letter (a one-time code typed into a reset) is encoded, never kept."""

    def __init__(self, index: DenseIndex) -> None:
        self._index = index
        self.name = index.encoder.name
        self.dim = index.encoder.dim

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if len(texts) == 1 and not isinstance(texts, str) and _has_letter(texts[0]):
            return self._index.query_vector(texts[0])[None, :]
        return self._index.encoder.encode(texts)

    def encode_cached(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._index.encoder.encode_cached(texts)


class DenseIndex:
    """Article vectors by slot, and cosine similarity of a question to every slot.

    Besides one vector for the whole article, each slot keeps vectors for its phrasings
    and body passages (:mod:`knowledge.passages`), used to re-score the best candidates.

    A slot is filled in two steps so that slow encoding can run outside the caller's
    lock: :meth:`expect` marks it *waiting*, :meth:`encode` computes its vectors (any
    thread, no state touched), :meth:`install` puts them in place if the slot still
    waits for that very article (an older version's vectors, finishing late, are
    dropped). A waiting slot has no vectors: it scores -1 and :meth:`waiting_mask`
    tells the search to stand in for it. :meth:`update` does all three at once.
    """

    def __init__(
        self, encoder: EncoderLike, query_cache: int = 256, progress: Progress | None = None
    ) -> None:
        self.encoder = encoder
        self.progress = progress
        self._vectors = np.zeros((0, encoder.dim), np.float32)
        self._alive = np.zeros(0, bool)
        self._parts: dict[int, _Parts] = {}
        self._waiting: dict[int, Article] = {}
        self._queries: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._query_cache = query_cache
        # guards only the query cache: :meth:`query_vector` may run outside the caller's lock
        self._queries_lock = threading.Lock()
        self._off_topic: npt.NDArray[np.float32] | None = None
        self._off_topic_texts: tuple[str, ...] = ()

    def set_off_topic(self, texts: Sequence[str]) -> None:
        """The out-of-scope requests :meth:`off_topic` compares questions with.

        Encoded on first use (through the disk cache), not here, so that loading a
        knowledge base that is never searched costs nothing.
        """
        self._off_topic_texts = tuple(texts)
        self._off_topic = None

    def off_topic(self, text: str) -> float:
        """The best cosine similarity of ``text`` to the out-of-scope requests (0 if none)."""
        if not self._off_topic_texts:
            return 0.0
        if self._off_topic is None:
            self._off_topic = self.encoder.encode_cached(self._off_topic_texts)
        return float(np.max(self._off_topic @ self.query_vector(text)))

    def update(self, changed: Mapping[int, Article], removed: Sequence[int] = ()) -> None:
        """Encode the ``changed`` articles (via the disk cache) and retire ``removed`` slots."""
        self.expect(changed, removed)
        self.install(self.encode(changed))
        if len(changed) > RELEASE_AFTER:
            release_memory()

    def expect(self, changed: Mapping[int, Article], removed: Sequence[int] = ()) -> None:
        """Retire ``removed`` slots (and any wait for them); mark ``changed`` as waiting."""
        for slot in removed:
            self._parts.pop(slot, None)
            self._waiting.pop(slot, None)
            if slot < len(self._alive):
                self._alive[slot] = False
        for slot, article in changed.items():
            self._parts.pop(slot, None)
            if slot < len(self._alive):
                self._alive[slot] = False
            self._waiting[slot] = article

    @property
    def waiting(self) -> dict[int, Article]:
        """The slots whose vectors are not in place yet, with their articles (a copy)."""
        return dict(self._waiting)

    def waiting_mask(self, n_slots: int) -> npt.NDArray[np.bool_] | None:
        """Which of ``n_slots`` slots wait for their vectors; ``None`` when none does."""
        if not self._waiting:
            return None
        mask = np.zeros(n_slots, bool)
        slots = [s for s in self._waiting if s < n_slots]
        mask[slots] = True
        return mask

    def encode(self, articles: Mapping[int, Article]) -> dict[int, Encoded]:
        """The vectors of ``articles`` by slot, via the encoder's disk cache.

        Touches nothing in the index, so it may run in any thread while others search.
        """
        if not articles:
            return {}
        slots = list(articles)
        texts: list[str] = []
        layout: list[tuple[int, int, tuple[tuple[str, ...], ...]]] = []
        for slot in slots:
            article = articles[slot]
            found = passages(article.body)
            short = phrasings(article)
            texts.append(article_text(article))
            texts.extend(short)
            texts.extend(p.text for p in found)
            layout.append((len(short), len(found), tuple(p.councils for p in found)))
        # the same text once (a council's view of an article shares its phrasings and
        # most passages with the article)
        unique = list(dict.fromkeys(texts))
        vectors = self._encode_reporting(unique)
        if len(unique) < len(texts):
            where = {text: i for i, text in enumerate(unique)}
            encoded = vectors[[where[t] for t in texts]]
        else:
            encoded = vectors
        parts: list[_Parts] = []
        rows: list[int] = []
        at = 0
        for n_short, n_passages, councils in layout:
            rows.append(at)
            short_end = at + 1 + n_short
            parts.append(
                _Parts(
                    encoded[at + 1 : short_end].astype(np.float16),
                    encoded[short_end : short_end + n_passages].astype(np.float16),
                    councils,
                )
            )
            at = short_end + n_passages
        wholes = encoded[rows]  # one block, not a small array per slot
        return {slot: Encoded(articles[slot], wholes[i], parts[i]) for i, slot in enumerate(slots)}

    def _encode_reporting(self, texts: list[str]) -> FloatMatrix:
        """``texts`` through the cached encoder, telling :attr:`progress` how far the texts
        the model has to run (those not in the encoder's cache) have got. A start whose
        vectors are all cached reports nothing: there is no wait to show."""
        if self.progress is None:
            return self.encoder.encode_cached(texts)
        cache = getattr(self.encoder, "cache", None)  # MiniLMEncoder's EmbeddingCache
        pending = cache.missing(texts) if cache is not None else list(dict.fromkeys(texts))
        if len(pending) <= PROGRESS_EVERY:
            return self.encoder.encode_cached(texts)
        found: dict[str, npt.NDArray[np.float32]] = {}
        for start in range(0, len(pending), PROGRESS_EVERY):
            chunk = pending[start : start + PROGRESS_EVERY]
            found.update(zip(chunk, self.encoder.encode_cached(chunk), strict=True))
            self.progress(min(start + PROGRESS_EVERY, len(pending)), len(pending))
        rest = [t for t in dict.fromkeys(texts) if t not in found]
        if rest:
            found.update(zip(rest, self.encoder.encode_cached(rest), strict=True))
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def install(self, encoded: Mapping[int, Encoded]) -> list[int]:
        """Put in place the vectors of slots that still wait for those articles.

        Returns the slots filled. Vectors of a slot retired meanwhile, or encoded from
        an article other than the one its slot waits for, are dropped.
        """
        slots = [s for s, e in encoded.items() if self._waiting.get(s) is e.article]
        if not slots:
            return []
        size = max(len(self._alive), max(slots) + 1)
        if size > len(self._alive):
            capacity = max(size, int(len(self._alive) * 1.5))
            grown = np.zeros((capacity, self.encoder.dim), np.float32)
            grown[: len(self._vectors)] = self._vectors
            self._vectors = grown
            self._alive = np.pad(self._alive, (0, capacity - len(self._alive)))
        for slot in slots:
            self._vectors[slot] = encoded[slot].whole
            self._parts[slot] = encoded[slot].parts
            self._alive[slot] = True
            del self._waiting[slot]
        return slots

    def query_vector(self, text: str) -> npt.NDArray[np.float32]:
        """The unit vector of a question, cached (the last ``query_cache`` questions).

        Thread-safe, and touches nothing the index's other methods read: a caller may
        encode a question ahead, outside its own lock (see ``KnowledgeBase.explain``).
        """
        with self._queries_lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
        vector: npt.NDArray[np.float32] = self.encoder.encode([text])[0]
        with self._queries_lock:
            self._queries[text] = vector
            if len(self._queries) > self._query_cache:
                self._queries.popitem(last=False)
        return vector

    def score(self, text: str, n_slots: int) -> npt.NDArray[np.float32]:
        """Cosine similarity of ``text`` to every slot (-1 for empty, waiting or retired slots)."""
        scores = np.full(n_slots, -1.0, np.float32)
        n = min(n_slots, len(self._vectors))
        if n:
            # einsum's own loop, not BLAS: a multi-threaded BLAS matrix-vector product is
            # 0.06 ms when the CPUs are idle but spins for 10+ ms when they are busy
            sims = np.einsum("ij,j->i", self._vectors[:n], self.query_vector(text))
            scores[:n] = np.where(self._alive[:n], sims, -1.0)
        return scores

    def rescore(
        self, text: str, whole: npt.NDArray[np.float32], slots: Sequence[int], council: str | None
    ) -> npt.NDArray[np.float32]:
        """Semantic scores of ``slots`` from all their vectors, for a question by ``council``.

        ``whole`` holds :meth:`score`'s cosines. Each slot scores :data:`WHOLE` times its
        whole-article cosine plus :data:`PHRASING` times its best phrasing's and
        :data:`PASSAGE` times its best passage's that ``council`` sees (the whole article's
        cosine stands in for what a slot lacks). Only the candidates are re-scored, so
        the cost does not grow with the knowledge base.
        """
        out = np.array([whole[s] for s in slots], np.float32)
        parts = [self._parts.get(s) for s in slots]
        blocks: list[npt.NDArray[np.float16]] = []
        owners: list[int] = []
        for i, part in enumerate(parts):
            if part is None:
                continue
            shown = [not c or council is None or council in c for c in part.councils]
            blocks.extend((part.phrasings, part.passages[np.array(shown, bool)]))
            owners.extend((2 * i, 2 * i + 1))
        if not owners:
            return out
        sizes = np.array([len(b) for b in blocks])
        sims = np.concatenate(blocks).astype(np.float32) @ self.query_vector(text)
        best = np.full(2 * len(slots), np.nan, np.float32)
        nonempty = sizes > 0
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])[nonempty]
        if len(starts):
            best[np.array(owners)[nonempty]] = np.maximum.reduceat(sims, starts)
        best = np.where(np.isnan(best), np.repeat(out, 2), best)
        combined: npt.NDArray[np.float32] = (
            WHOLE * out + PHRASING * best[0::2] + PASSAGE * best[1::2]
        )
        return combined.astype(np.float32)
