"""The :class:`KnowledgeBase`: load a folder of articles, search it, reload it live.

>>> kb = KnowledgeBase.load(semantic="off")              # the bundled articles
>>> result = kb.search("my diary won't show meetings", council="dacorum")
>>> result.decision in ("answer", "choose", "decline")
True
>>> kb.refresh().nothing_changed                         # cheap when nothing changed
True
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.article import Article
from knowledge.dense import (
    RELEASE_AFTER,
    DenseIndex,
    EncoderLike,
    Progress,
    QueryEncoder,
    SemanticMode,
    open_encoder,
)
from knowledge.files import Stamp, article_files
from knowledge.lexical import release_memory
from knowledge.parse import Parsed, parse_file
from knowledge.problems import Problem, sort_key
from knowledge.results import ReloadReport, SearchResult
from knowledge.search import Explained, Index
from knowledge.synonyms import Synonyms, default_synonyms
from knowledge.validate import check_collection, link_target

log = logging.getLogger(__name__)

DEFAULT_COUNCILS = ("aylesbury-vale", "dacorum")


def bundled_root() -> Path:
    """The starter knowledge base shipped inside the package (``knowledge/articles``)."""
    return Path(__file__).resolve().parent / "articles"


@dataclass(slots=True)
class _File:
    stamp: Stamp
    article_id: str | None  # the id this file serves (its last good version), if any
    problems: tuple[Problem, ...] = ()
    key_lines: dict[str, int] = field(default_factory=dict)


class KnowledgeBase:
    """A folder of markdown articles, searchable and live-reloadable.

    Build it with :meth:`load`. Methods are thread-safe: :meth:`refresh` may run in
    a worker thread while other threads search.
    """

    def __init__(
        self,
        root: Path,
        *,
        councils: Sequence[str],
        placeholders: Collection[str] | None = None,
        dense: DenseIndex | None,
        semantic_status: str,
        today: datetime.date | None,
        synonyms: Synonyms,
    ) -> None:
        self.root = root
        self.councils = tuple(councils)
        self.placeholders = frozenset(placeholders) if placeholders is not None else None
        self.semantic_status = semantic_status
        self._today = today
        self._index = Index(synonyms, dense)
        self._files: dict[str, _File] = {}
        self._articles: dict[str, Article] = {}
        self._slots: dict[str, int] = {}
        # articles with council variants: each council's text has its own slot too
        self._views: dict[str, dict[str, int]] = {}
        self._view_of: dict[int, str] = {}
        self._paths: dict[str, str] = {}
        self._next_slot = 0
        self._lock = threading.RLock()
        self._masks: dict[tuple[str | None, datetime.date], npt.NDArray[np.bool_]] = {}
        self._collection: tuple[datetime.date, list[Problem]] | None = None

    @classmethod
    def load(
        cls,
        root: Path | None = None,
        *,
        councils: Sequence[str] = DEFAULT_COUNCILS,
        placeholders: Collection[str] | None = None,
        cache_dir: Path | None = None,
        semantic: SemanticMode = "auto",
        today: datetime.date | None = None,
        synonyms: Synonyms | None = None,
        encoder: EncoderLike | None = None,
        progress: Progress | None = None,
    ) -> KnowledgeBase:
        """Read every article under ``root`` (default: the bundled ones) and index them.

        ``semantic="on"`` raises :class:`knowledge.semantic.SemanticUnavailable` when
        the embedding model is not installed; ``"auto"`` falls back to lexical-only.
        ``placeholders``: the ``{{ name }}`` names the application fills in (others are
        errors; ``None``: no check); ``today`` fixes the date of ``valid_from``/``valid_until``;
        ``encoder`` replaces the sentence-embedding model (tests, experiments);
        ``progress`` is told how far encoding the articles has got (a first start encodes
        every article; later ones read the vectors from ``cache_dir``).
        """
        if encoder is None:
            encoder, status = open_encoder(semantic, cache_dir)
        else:
            status = f"semantic search: on ({encoder.name}, {encoder.dim} dims)"
        kb = cls(
            Path(root) if root is not None else bundled_root(),
            councils=councils,
            placeholders=placeholders,
            dense=DenseIndex(encoder, progress=progress) if encoder is not None else None,
            semantic_status=status,
            today=today,
            synonyms=synonyms if synonyms is not None else default_synonyms(),
        )
        report = kb.refresh()
        log.info(
            "knowledge base %s: %d articles, %d problems, %s; %s",
            kb.root,
            len(kb._articles),
            len(report.failed),
            status,
            f"loaded in {report.seconds:.2f}s",
        )
        return kb

    def query_encoder(self) -> QueryEncoder | None:
        """The sentence encoder for reading the same messages otherwise (the intent
        detector), sharing the search's question cache; ``None`` when lexical-only."""
        dense = self._index.dense
        return QueryEncoder(dense) if dense is not None else None

    # -- reading -------------------------------------------------------------------------
    @property
    def today(self) -> datetime.date:
        return self._today or datetime.date.today()

    def get(self, article_id: str) -> Article | None:
        """The article with this id (served or not yet/no longer valid), or ``None``."""
        return self._articles.get(article_id)

    def articles(self) -> Sequence[Article]:
        """Every loaded article, by id."""
        with self._lock:
            return [self._articles[k] for k in sorted(self._articles)]

    @property
    def problems(self) -> Sequence[Problem]:
        """Every current problem: per file, and across articles (links, duplicates, dates)."""
        with self._lock:
            today = self.today
            if self._collection is None or self._collection[0] != today:
                key_lines = {
                    f.article_id: f.key_lines for f in self._files.values() if f.article_id
                }
                self._collection = (today, check_collection(self._articles, key_lines, today))
            found = [p for f in self._files.values() for p in f.problems]
            return sorted(found + self._collection[1], key=sort_key)

    def resolve_link(self, article: Article, href: str) -> str | None:
        """The id of the article a relative ``.md`` link in ``article`` points at, else ``None``."""
        target = link_target(article.id, href)
        return target if target is not None and target in self._articles else None

    # -- searching -----------------------------------------------------------------------
    def search(self, query: str, *, council: str | None = None, limit: int = 10) -> SearchResult:
        """Rank the articles staff of ``council`` may see for ``query``, and decide.

        >>> kb = KnowledgeBase.load(semantic="off")
        >>> kb.search("what's the weather like tomorrow").decision
        'decline'
        """
        return self.explain(query, council=council, limit=limit).result

    def explain(self, query: str, *, council: str | None = None, limit: int = 10) -> Explained:
        """:meth:`search` with the analysed query and decision signals (for editors).

        The question's vector is computed first, outside the lock: encoding it is most of a
        search's time and runs in the model without holding the GIL, so concurrent searches
        encode side by side instead of queueing behind one another. The search then finds
        the vector cached (or, if a reload changed the spelling corrections meanwhile,
        encodes the new text itself).
        """
        with self._lock:
            dense, text = self._index.dense, self._index.semantic_text(query)
        if dense is not None and text is not None:
            dense.query_vector(text)
        with self._lock:
            explained = self._index.search(query, self._eligible(council), limit, council=council)
            if not self._views:
                return explained
            # a council's view of an article is searched by that council's text; the
            # hit is the article itself (its for_council() renders the same text)
            hits = [
                dataclasses.replace(h, article=self._articles.get(h.article.id, h.article))
                for h in explained.result.hits
            ]
            result = dataclasses.replace(explained.result, hits=hits)
            return dataclasses.replace(explained, result=result)

    def _eligible(self, council: str | None) -> npt.NDArray[np.bool_]:
        today = self.today
        mask = self._masks.get((council, today))
        if mask is None:
            if any(day != today for _, day in self._masks):
                self._masks.clear()
            mask = np.zeros(self._index.n_slots, bool)
            for slot, article in self._index.articles.items():
                if not (article.applies_to(council) and article.is_live(today)):
                    continue
                view = self._view_of.get(slot)
                if view is not None:  # one council's text: searched for that council only
                    mask[slot] = view == council
                else:  # the whole text: for editors (no council) and councils without a view
                    mask[slot] = council is None or council not in self._views.get(article.id, {})
            self._masks[(council, today)] = mask
        return mask

    # -- reloading -----------------------------------------------------------------------
    def refresh(
        self, paths: Iterable[str | Path] | None = None, *, embed: bool = True
    ) -> ReloadReport:
        """Rescan the folder: load added and changed files, drop deleted ones.

        ``paths`` (what a file watcher saw change) limits the work to those files
        when all of them are articles under the root; otherwise, or without it,
        every file is checked. A file that no longer parses keeps its last good
        version serving; its problems are in the report's ``failed`` and in
        :attr:`problems`.

        Added and changed articles are served as soon as they are parsed and indexed
        by their words. In hybrid mode their vectors come after: before this returns
        (``embed=True``), or, with ``embed=False`` (what the bot does), whenever
        :meth:`embed_pending` runs; until then they rank by their words alone
        (:func:`knowledge.search.stand_in`), never by the vectors of their old text.

        >>> kb = KnowledgeBase.load(semantic="off")
        >>> kb.refresh(embed=False).nothing_changed, kb.vectors_pending
        (True, [])
        """
        started = time.perf_counter()
        with self._lock:
            only = self._article_keys(paths) if paths is not None else None
            report = self._refresh(only)
        if embed and self.embed_pending():
            report = dataclasses.replace(report, seconds=time.perf_counter() - started)
        return report

    @property
    def vectors_pending(self) -> list[str]:
        """Ids of served articles whose vectors :meth:`embed_pending` has yet to compute."""
        dense = self._index.dense
        if dense is None:
            return []
        with self._lock:
            return sorted({self._index.articles[slot].id for slot in dense.waiting})

    def embed_pending(self) -> list[str]:
        """Compute the vectors of articles served without them and put them in place.

        Returns the ids whose vectors were put in place. The encoding runs without
        the lock, so searches go on meanwhile; it may run in any thread, and calls may
        overlap: vectors are only put in place for the version of an article that is
        still served, so an older version's encode that finishes last is dropped.
        Goes on until nothing is left waiting (an edit during the encode is picked up).
        """
        dense = self._index.dense
        done: list[str] = []
        seen: set[str] = set()
        if dense is None:
            return done
        while True:
            with self._lock:
                todo = dense.waiting
            if not todo:
                return done
            encoded = dense.encode(todo)
            with self._lock:
                filled = dense.install(encoded)
                for slot in filled:
                    aid = self._index.articles[slot].id
                    if aid not in seen:
                        seen.add(aid)
                        done.append(aid)
            del encoded  # then hand a big encode's freed heap back to the OS
            if len(todo) > RELEASE_AFTER:
                release_memory()

    def _article_keys(self, paths: Iterable[str | Path]) -> dict[str, Stamp | None] | None:
        """``{file key: stamp or None if gone}`` for ``paths``, or ``None`` to scan all."""
        root = os.path.realpath(self.root)
        keys: dict[str, Stamp | None] = {}
        for raw in paths:
            real = os.path.realpath(raw)
            rel = os.path.relpath(real, root)
            name = os.path.basename(real).lower()
            hidden = any(part.startswith(".") for part in Path(rel).parts)
            if rel.startswith("..") or hidden or not name.endswith(".md") or name == "readme.md":
                return None
            if os.path.isdir(real):
                return None
            key = os.path.join(str(self.root), rel)
            try:
                st = os.stat(key)
            except FileNotFoundError:
                keys[key] = None
                continue
            except OSError:
                return None
            keys[key] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return keys

    def _refresh(self, only: dict[str, Stamp | None] | None = None) -> ReloadReport:
        started = time.perf_counter()
        if only is None:
            current = dict(article_files(self.root))
            candidates: Iterable[str] = self._files
        else:
            current = {key: stamp for key, stamp in only.items() if stamp is not None}
            candidates = [key for key in only if key in self._files]
        report = ReloadReport()
        changed: dict[int, Article] = {}
        retired: list[int] = []
        files = self._files
        todo = [
            p for p, stamp in current.items() if (f := files.get(p)) is None or f.stamp != stamp
        ]
        for path in sorted(todo):
            known = self._files.get(path)
            stamp = current[path]
            parsed = parse_file(
                Path(path), self.root, councils=self.councils, placeholders=self.placeholders
            )
            report.problems.extend(parsed.problems)
            self._apply(path, stamp, parsed, known, report, changed, retired)
        for path in sorted(set(candidates) - set(current)):
            gone = self._files.pop(path)
            if gone.article_id is not None and self._paths.get(gone.article_id) == path:
                del self._paths[gone.article_id]
                self._articles.pop(gone.article_id, None)
                retired.append(self._slots.pop(gone.article_id))
                retired.extend(self._retire_views(gone.article_id))
                report.removed.append(gone.article_id)
        if changed or retired:
            views = [slot for slot in changed if slot in self._view_of]
            self._index.update(changed, retired, embed=False, views=views)
            if len(changed) > RELEASE_AFTER:  # a first load: hand its scratch heap back
                release_memory()
            self._masks.clear()
        if changed or retired or report.failed:
            self._collection = None
        return dataclasses.replace(report, seconds=time.perf_counter() - started)

    def _apply(
        self,
        path: str,
        stamp: Stamp,
        parsed: Parsed,
        known: _File | None,
        report: ReloadReport,
        changed: dict[int, Article],
        retired: list[int],
    ) -> None:
        article = parsed.article
        if article is None:
            report.failed.extend(p for p in parsed.problems if p.is_error)
            keep = known.article_id if known is not None else None
            lines = known.key_lines if known is not None else {}
            self._files[path] = _File(stamp, keep, parsed.problems, lines)
            return
        aid = article.id
        other = self._paths.get(aid)
        if other is not None and other != path:
            problem = Problem(
                Path(path),
                1,
                "error",
                f"duplicate id '{aid}' (also {other})",
                "rename one of the files",
            )
            report.failed.append(problem)
            self._files[path] = _File(stamp, None, (*parsed.problems, problem))
            return
        self._files[path] = _File(stamp, aid, parsed.problems, parsed.key_lines)
        self._paths[aid] = path
        old_slot = self._slots.get(aid)
        if old_slot is not None:
            if self._articles[aid] == article:
                return
            retired.append(old_slot)
            retired.extend(self._retire_views(aid))
            report.changed.append(aid)
        else:
            report.added.append(aid)
        self._slots[aid] = self._new_slot()
        self._articles[aid] = article
        changed[self._slots[aid]] = article
        variants = article.variant_councils
        if variants:
            keys = [c for c in self.councils if article.applies_to(c)]
            keys += [c for c in variants if c not in keys]
            self._views[aid] = {}
            for key in keys:
                slot = self._views[aid][key] = self._new_slot()
                self._view_of[slot] = key
                changed[slot] = dataclasses.replace(article, body=article.for_council(key))

    def _new_slot(self) -> int:
        slot = self._next_slot
        self._next_slot += 1
        return slot

    def _retire_views(self, aid: str) -> list[int]:
        """Forget the council views of article ``aid``; their slots, to retire."""
        slots = list(self._views.pop(aid, {}).values())
        for slot in slots:
            del self._view_of[slot]
        return slots
