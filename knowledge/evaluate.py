"""Score a knowledge base against a question file: ``itbot kb eval``.

The file has one JSON object per line, ``{"q": ..., "expected": [article ids]}``;
``expected: []`` marks an out-of-scope question the bot should decline.
Ranking metrics (hit@1, hit@3, mrr@10) use the ranking whatever the decision;
``in_scope_declined`` counts in-scope questions the bot would have declined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.base import KnowledgeBase


class QuestionFileError(ValueError):
    """A line of the question file is not ``{"q": str, "expected": [str, ...]}``."""


@dataclass(frozen=True, slots=True)
class Question:
    q: str
    expected: tuple[str, ...]
    council: str | None = None


def read_questions(path: Path) -> Iterator[Question]:
    """Questions from a JSON-lines file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise QuestionFileError(f"{path}:{n}: not JSON: {exc.msg}") from None
            q, expected = data.get("q"), data.get("expected")
            if not isinstance(q, str) or not isinstance(expected, list):
                raise QuestionFileError(f'{path}:{n}: need {{"q": "...", "expected": [ids]}}')
            council = data.get("council")
            yield Question(q, tuple(str(e) for e in expected), council if council else None)


def evaluate(
    kb: KnowledgeBase, questions: Iterable[Question]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The summary metrics and one result row per question."""
    rows: list[dict[str, Any]] = []
    n_in = n_out = hit1 = hit3 = declined_in = declined_out = 0
    rr = 0.0
    for question in questions:
        result = kb.search(question.q, council=question.council, limit=10)
        ranked = [h.article.id for h in result.hits[:10]]
        rows.append({"q": question.q, "ranked": ranked, "decision": result.decision})
        if not question.expected:
            n_out += 1
            declined_out += result.decision == "decline"
            continue
        n_in += 1
        declined_in += result.decision == "decline"
        expected = set(question.expected)
        first = next((i for i, aid in enumerate(ranked) if aid in expected), None)
        if first is not None:
            hit1 += first == 0
            hit3 += first < 3
            rr += 1.0 / (first + 1)
    summary = {
        "n_in_scope": n_in,
        "hit@1": _share(hit1, n_in),
        "hit@3": _share(hit3, n_in),
        "mrr@10": _share(rr, n_in),
        "n_out_of_scope": n_out,
        "oos_declined": _share(declined_out, n_out),
        "in_scope_declined": _share(declined_in, n_in),
    }
    return summary, rows


def _share(count: float, total: int) -> float:
    return round(count / total, 4) if total else 0.0
