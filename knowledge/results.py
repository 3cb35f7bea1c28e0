"""What a search and a reload return: :class:`SearchResult`, :class:`Hit`, :class:`ReloadReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.article import Article
from knowledge.problems import Problem

Decision = Literal["answer", "choose", "decline"]

#: See :attr:`SearchResult.it_share`.
CLEARLY_IT = 0.6


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked article with its fused score and each retriever's contribution.

    ``parts`` holds, per retriever, its score and rank (``lexical``, ``lexical_rank``,
    ``semantic``, ``semantic_rank``, ``fuzzy``, ``coverage``), for explanations.
    """

    article: Article
    score: float
    parts: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The ranking and what the conversation should do with it.

    ``decision`` is ``answer`` (one clear article), ``choose`` (two or three close
    candidates to offer as buttons) or ``decline`` (nothing good enough);
    ``confidence`` estimates the chance that the best hit is the right article.
    """

    query: str
    decision: Decision
    confidence: float
    hits: list[Hit]
    n_choices: int = 0
    #: Share of the question's informative words that are IT vocabulary or error codes
    #: (as corrected): at :data:`CLEARLY_IT` or more the question is about IT, whether or
    #: not an article answers it, and is never turned away as "not IT".
    it_share: float = 0.0
    #: Error codes the question names that no article has ("AADSTS12345"), when they
    #: are all it says: declined, so the asker is offered the desk rather than guesses.
    unknown_codes: tuple[str, ...] = ()

    @property
    def about_it(self) -> bool:
        return self.it_share >= CLEARLY_IT or bool(self.unknown_codes)

    @property
    def candidates(self) -> list[Hit]:
        """``[best]`` to answer, 2-3 hits to choose from, ``[]`` when declining."""
        if self.decision == "answer":
            return self.hits[:1]
        if self.decision == "choose":
            return self.hits[: max(2, min(3, self.n_choices))]
        return []

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What :meth:`KnowledgeBase.refresh` changed, by article id, and how long it took.

    ``failed`` holds the errors of files that could not be loaded (a file that had a
    good version keeps serving it); ``problems`` every problem of the files re-read.
    """

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def nothing_changed(self) -> bool:
        return not (self.added or self.changed or self.removed or self.failed)

    def __str__(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.failed)} failed in {self.seconds * 1000:.1f} ms"
        )
