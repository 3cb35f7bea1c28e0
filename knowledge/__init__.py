"""The knowledge base: markdown articles, validated, searched (hybrid), reloaded live.

>>> from knowledge import KnowledgeBase
>>> kb = KnowledgeBase.load(semantic="off")
>>> result = kb.search("how do I open the team inbox", council="aylesbury-vale")
>>> result.decision != "decline" and result.hits[0].article.id.startswith("email/")
True

Pure: no network and no database; the only files written are the embedding cache.
See ``knowledge/README.md`` for the article format and how search works.
"""

from knowledge.article import Article
from knowledge.base import KnowledgeBase, bundled_root
from knowledge.dense import Progress
from knowledge.problems import Problem
from knowledge.results import Hit, ReloadReport, SearchResult

__all__ = [
    "Article",
    "Hit",
    "KnowledgeBase",
    "Problem",
    "Progress",
    "ReloadReport",
    "SearchResult",
    "bundled_root",
]
