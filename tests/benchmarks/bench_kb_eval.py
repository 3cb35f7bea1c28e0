"""Search quality beside the anchors, in one run.

    python tests/benchmarks/bench_kb_eval.py [--data ../shared/eval/external-dev]
        [--staff tests/knowledge/kb_staff_questions.jsonl] [--cache-dir .itbot-cache]

For each question set it prints hit@1, hit@3, mrr@10 (ranking, whatever the decision),
oos_declined and in_scope_declined for:

* anchor bm25s 0.3.16 over title + summary + body, English stop words;
* anchor all-MiniLM-L6-v2 alone (title + summary + body, truncated by the model);
* anchor reciprocal-rank fusion of those two (k = 60);
* ours, lexical-only (``semantic="off"``) and hybrid (``semantic="on"``).

The anchors never decline, so their decline columns are empty. The MiniLM rows need
the model (installed by the quick start); without them they are skipped.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from knowledge import KnowledgeBase, bundled_root
from knowledge.evaluate import Question, evaluate, read_questions

Ranker = Callable[[str], list[str]]
HERE = Path(__file__).resolve().parents[2]


def ranking_metrics(rank: Ranker, questions: Sequence[Question]) -> dict[str, float]:
    inscope = [q for q in questions if q.expected]
    h1 = h3 = rr = 0.0
    for q in inscope:
        ranked = rank(q.q)[:10]
        first = next((i for i, a in enumerate(ranked) if a in q.expected), None)
        if first is not None:
            h1 += first == 0
            h3 += first < 3
            rr += 1 / (first + 1)
    n = len(inscope) or 1
    return {"hit@1": h1 / n, "hit@3": h3 / n, "mrr@10": rr / n}


def bm25s_ranker(kb: KnowledgeBase) -> Ranker:
    import bm25s

    articles = kb.articles()
    ids = [a.id for a in articles]
    retriever = bm25s.BM25()
    texts = [f"{a.title}\n{a.summary}\n{a.body}" for a in articles]
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def rank(q: str) -> list[str]:
        tokens = bm25s.tokenize([q], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(10, len(ids))
        res, _ = retriever.retrieve(tokens, k=k, show_progress=False)
        return [ids[i] for i in res[0]]

    return rank


def minilm_ranker(kb: KnowledgeBase, cache_dir: Path) -> Ranker | None:
    try:
        from knowledge.semantic import SemanticUnavailable, load_encoder
    except ImportError:
        return None
    try:
        encoder, _ = load_encoder("on", cache_dir)
    except SemanticUnavailable:
        return None
    assert encoder is not None
    articles = kb.articles()
    ids = [a.id for a in articles]
    matrix = encoder.encode_cached([f"{a.title}\n{a.summary}\n{a.body}" for a in articles])

    def rank(q: str) -> list[str]:
        sims = matrix @ encoder.encode([q])[0]
        return [ids[i] for i in np.argsort(-sims)[:10]]

    return rank


def rrf(first: Ranker, second: Ranker, k: int = 60) -> Ranker:
    def rank(q: str) -> list[str]:
        scores: dict[str, float] = {}
        for ranker in (first, second):
            for r, aid in enumerate(ranker(q)[:10], start=1):
                scores[aid] = scores.get(aid, 0.0) + 1 / (k + r)
        return sorted(scores, key=lambda a: -scores[a])

    return rank


def row(name: str, figures: dict[str, float], seconds: float) -> str:
    cols = ["hit@1", "hit@3", "mrr@10", "oos_declined", "in_scope_declined"]
    cells = [f"{figures[c]:.3f}" if c in figures else "  -  " for c in cols]
    return f"  {name:34} " + "  ".join(f"{c:>8}" for c in cells) + f"   {seconds:6.1f}s"


def run(title: str, root: Path, questions_path: Path, cache_dir: Path) -> None:
    questions = list(read_questions(questions_path))
    n_in = sum(bool(q.expected) for q in questions)
    print(f"\n{title}: {root} ({n_in} in scope, {len(questions) - n_in} out of scope)")
    print(
        f"  {'':34} "
        + "  ".join(f"{c:>8}" for c in ["hit@1", "hit@3", "mrr@10", "oos_decl", "in_decl"])
    )
    lexical = KnowledgeBase.load(root, semantic="off")
    started = time.perf_counter()
    bm25 = bm25s_ranker(lexical)
    print(
        row("anchor bm25s 0.3.16", ranking_metrics(bm25, questions), time.perf_counter() - started)
    )
    started = time.perf_counter()
    minilm = minilm_ranker(lexical, cache_dir)
    if minilm is not None:
        print(
            row(
                "anchor MiniLM alone",
                ranking_metrics(minilm, questions),
                time.perf_counter() - started,
            )
        )
        started = time.perf_counter()
        print(
            row(
                "anchor RRF(bm25s, MiniLM)",
                ranking_metrics(rrf(bm25, minilm), questions),
                time.perf_counter() - started,
            )
        )
    modes = ["off", "on"] if minilm is not None else ["off"]
    for mode in modes:
        started = time.perf_counter()
        kb = (
            lexical
            if mode == "off"
            else KnowledgeBase.load(root, semantic="on", cache_dir=cache_dir)
        )
        summary, _ = evaluate(kb, questions)
        name = "ours, lexical-only" if mode == "off" else "ours, hybrid"
        print(row(name, summary, time.perf_counter() - started))
        print("    " + json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HERE.parent / "shared/eval/external-dev")
    parser.add_argument(
        "--staff",
        type=Path,
        nargs="*",
        default=[
            HERE / "tests/knowledge/kb_staff_questions.jsonl",
            HERE / "tests/data/kb_staff_questions.jsonl",
        ],
        help="question files for the bundled articles (missing ones are skipped)",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path(".itbot-cache"))
    args = parser.parse_args()
    if args.data.is_dir():
        run("external-dev", args.data / "kb", args.data / "questions.jsonl", args.cache_dir)
    else:
        print(f"no eval data at {args.data}")
    for staff in args.staff:
        if staff.is_file():
            run(f"bundled KB, {staff}", bundled_root(), staff, args.cache_dir)


if __name__ == "__main__":
    main()
