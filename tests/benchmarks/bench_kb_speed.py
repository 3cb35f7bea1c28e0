"""Speed and memory of the knowledge base with 5,000 generated articles.

    python tests/benchmarks/bench_kb_speed.py [--articles 5000] [--semantic off|on]

Prints: load time (parse + index), lexical index build time alone, single-query
latency (p50/p99 over 2,000 questions: paraphrases, typos, error text, out of scope),
time to reload one changed article (until it is live, searched with its new text, and,
in hybrid mode, until its new vectors are in place, computed in a worker thread while
searches go on), resident memory; and, for reference, bm25s (0.3.16) indexing and
querying the same articles in the same run.
Figures, not assertions: the targets are in issue 3.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge import KnowledgeBase, bundled_root
from knowledge.search import Index
from knowledge.synonyms import default_synonyms
from knowledge.text import words

PRODUCTS = ["email", "calendar", "documents", "sign-in", "teams", "mobile", "browser"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vocabulary(rng: random.Random) -> list[str]:
    """Words of the bundled articles plus made-up product and error words (~25k)."""
    seen: dict[str, None] = {}
    for path in sorted(bundled_root().rglob("*.md")):
        seen.update(dict.fromkeys(words(path.read_text(encoding="utf-8"))))
    syllables = [
        "ka",
        "lo",
        "mi",
        "ster",
        "pro",
        "dex",
        "vin",
        "tor",
        "qua",
        "sel",
        "ab",
        "ron",
        "fen",
        "gu",
        "sha",
        "wel",
        "tri",
        "bo",
        "nix",
        "par",
    ]
    while len(seen) < 25_000:
        seen["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))] = None
    return list(seen)


def generate(root: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = 1.0 / ranks**1.07
    p /= p.sum()
    nprng = np.random.default_rng(seed)

    def text(k: int) -> str:
        return " ".join(vocab[i] for i in nprng.choice(len(vocab), size=k, p=p))

    for i in range(n):
        folder = root / rng.choice(PRODUCTS)
        folder.mkdir(parents=True, exist_ok=True)
        councils = rng.choice(
            ["", "councils: [dacorum]\n", "councils: [aylesbury-vale]\n"] + [""] * 7
        )
        questions = "".join(f"  - {text(rng.randint(4, 9))}\n" for _ in range(rng.randint(0, 4)))
        body = "\n\n".join(text(rng.randint(20, 60)) for _ in range(rng.randint(3, 8)))
        if rng.random() < 0.2:
            body += f"\n\n::: council dacorum\n{text(30)}\n:::\n"
            body += f"\n::: council aylesbury-vale\n{text(30)}\n:::\n"
        (folder / f"article-{i:05d}.md").write_text(
            f"---\ntitle: {text(rng.randint(3, 8))}\nsummary: {text(rng.randint(8, 20))}\n"
            f"tags: [{text(2).replace(' ', ', ')}]\nproducts: [{folder.name}]\n{councils}"
            f"questions:\n{questions or '  - ' + text(5) + chr(10)}"
            f"owner: kb@dacorum.gov.uk\n---\n{body}\n",
            encoding="utf-8",
        )


def questions(kb: KnowledgeBase, n: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    articles = kb.articles()
    out = []
    for i in range(n):
        a = rng.choice(articles)
        body = a.body.split()
        kind = i % 4
        if kind == 0:
            out.append(" ".join(rng.sample(a.title.split() + a.summary.split(), 5)))
        elif kind == 1:
            w = rng.sample(body, 6)
            w[0] = w[0][:-1] + "x" if len(w[0]) > 4 else w[0]
            out.append(" ".join(w))
        elif kind == 2:
            start = rng.randrange(max(1, len(body) - 15))
            out.append(" ".join(body[start : start + 15]))
        else:  # out of scope, made unique so that no cache helps
            opening = rng.choice(
                ["what's the weather", "book annual leave for", "when is payday", "recipe for"]
            )
            out.append(f"{opening} {rng.choice(body)} {i}")
    return out


def letters(n: int) -> str:
    """``n`` written with letters (a word that no article has and that no speller splits)."""
    return "".join(chr(ord("a") + int(d)) for d in str(n))


@dataclass
class Reload:
    live: float  # seconds until the new text is searched and served
    vectors: float | None  # seconds until its vectors are in place (None: lexical-only)
    queries: list[float]  # latencies of searches run while the vectors were computed


def reload_one(
    kb: KnowledgeBase,
    root: Path,
    nth: int,
    edit: str,
    qs: Iterator[str] | None = None,
    *,
    watched: bool,
) -> Reload:
    """Append ``edit`` to the ``nth`` article and reload it as the bot does.

    The bot's refresh returns once the article is live; a worker thread then computes
    its vectors while searches go on. Both times are measured from the start of the
    refresh; a search for the edit's last word must find the article first before its
    vectors are computed. ``qs``: searches to run back to back while the vectors are
    computed; without them the machine is left quiet.
    """
    files = sorted(root.rglob("*.md"))
    target = files[nth % len(files)]
    target.write_text(target.read_text(encoding="utf-8") + f"\n{edit}\n", encoding="utf-8")
    word = edit.split()[-1]
    started = time.perf_counter()
    report = kb.refresh([target] if watched else None, embed=False)
    live = time.perf_counter() - started
    assert report.changed, report
    hybrid = bool(kb.vectors_pending)  # lexical-only: nothing to wait for
    found = kb.search(word, limit=3).hits  # by its new words, before any vectors
    assert found and found[0].article.id in report.changed, (word, found)
    took: list[float] = []

    def embed() -> None:
        t = time.perf_counter()
        kb.embed_pending()
        took.append(time.perf_counter() - t)

    worker = threading.Thread(target=embed)
    worker.start()
    queries = []
    while qs is not None and worker.is_alive():  # searches go on while it is encoded
        t = time.perf_counter()
        kb.search(next(qs), council="dacorum")
        queries.append(time.perf_counter() - t)
    worker.join()
    assert not kb.vectors_pending
    # the bot starts the encode as soon as the refresh returns (not after a search)
    return Reload(live, live + took[0] if hybrid else None, queries)


def summary(reloads: list[Reload]) -> str:
    live = np.array([r.live for r in reloads]) * 1000
    text = f"live after median {np.median(live):.1f} ms, max {live.max():.1f} ms"
    vectors = np.array([r.vectors for r in reloads if r.vectors is not None]) * 1000
    if len(vectors):
        text += (
            f"; its vectors in place after median {np.median(vectors):.1f} ms, "
            f"max {vectors.max():.1f} ms"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--semantic", choices=("off", "on"), default="off")
    parser.add_argument("--cache-dir", type=Path, default=Path(".itbot-cache"))
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        generate(tmp, args.articles)
        gc.collect()
        base_rss = rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        kb = KnowledgeBase.load(tmp, semantic=args.semantic, cache_dir=args.cache_dir)
        load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.collect()
        rss = rss_mb()
        print(
            f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"{kb.semantic_status}")
        print(f"articles: {len(kb.articles())}")
        print(f"load (parse + index): {load_s:.2f} s wall, {load_cpu:.2f} s CPU")

        # lexical index build alone: the articles are already parsed
        articles = kb.articles()
        index = Index(default_synonyms(), None)
        started, cpu = time.perf_counter(), time.process_time()
        index.update(dict(enumerate(articles)))
        built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"lexical index build (analyse + BM25F + speller): {built:.2f} s wall, "
            f"{built_cpu:.2f} s CPU"
        )
        del index

        qs = questions(kb, args.queries)
        for q in qs[:50]:
            kb.search(q, council="dacorum")
        times = []
        for i, q in enumerate(qs):
            council = ("dacorum", "aylesbury-vale", None)[i % 3]
            t = time.perf_counter()
            kb.search(q, council=council)
            times.append(time.perf_counter() - t)
        ms = np.array(times) * 1000
        print(
            f"query latency over {len(ms)} queries: p50 {np.percentile(ms, 50):.2f} ms, "
            f"p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.2f} ms"
        )

        # every run edits with new words, so that no reload finds its vectors cached
        nonce = letters(time.time_ns() % 10**12)
        again = itertools.cycle(qs)
        full = [
            reload_one(kb, tmp, i * 37, f"edit {nonce}q{letters(i)}", watched=False)
            for i in range(20)
        ]
        t = time.perf_counter()
        kb.refresh()
        idle = time.perf_counter() - t
        print(f"reload of one changed article, full rescan, quiet: {summary(full)}")
        print(f"  (rescan when nothing changed: {idle * 1000:.1f} ms)")
        # what the running bot does: the file watcher names the changed file
        quiet = [
            reload_one(kb, tmp, i * 41 + 5, f"watched {nonce}w{letters(i)}", watched=True)
            for i in range(20)
        ]
        print(f"reload of one changed article, as the watcher reports it, quiet: {summary(quiet)}")
        busy = [
            reload_one(kb, tmp, i * 43 + 7, f"busy {nonce}b{letters(i)}", again, watched=True)
            for i in range(20)
        ]
        print(
            "reload of one changed article, as the watcher reports it, searches back to back: "
            + summary(busy)
        )
        during = np.array([q for r in busy for q in r.queries]) * 1000
        if len(during):
            print(
                f"query latency while the vectors are computed: p50 "
                f"{np.percentile(during, 50):.2f} ms, p99 {np.percentile(during, 99):.2f} ms "
                f"over {len(during)} queries"
            )
        print(f"resident memory after load: {rss:.0f} MB (before load {base_rss:.0f} MB)")

        try:
            import bm25s
        except ImportError:
            print("bm25s not installed: no anchor")
            return
        texts = [f"{a.title}\n{a.summary}\n{a.body}" for a in articles]
        t = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False
        )
        build = time.perf_counter() - t
        times = []
        for q in qs:
            t = time.perf_counter()
            retriever.retrieve(
                bm25s.tokenize([q], stopwords="en", show_progress=False), k=10, show_progress=False
            )
            times.append(time.perf_counter() - t)
        ms = np.array(times) * 1000
        print(
            f"anchor bm25s {bm25s.__version__}: index {build:.2f} s, query p50 "
            f"{np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
