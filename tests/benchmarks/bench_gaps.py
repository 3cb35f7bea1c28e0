"""How long the knowledge gaps report takes to group unanswered questions.

    python tests/benchmarks/bench_gaps.py [--questions 2000]

The slow case for the grouping is that few questions are alike (most start their own
group): it prints the time for that (as many topics as questions) and for a mix where
each topic is asked about eight times in different word orders, and the process's peak
memory.
Figures, not assertions; there is no target in an issue.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import UTC, datetime, timedelta

from bot.conversation.gaps import MAX_QUESTIONS, Asked, _group
from knowledge.fuzzy import english_words


def questions(n: int, topics: int, seed: int = 1) -> list[Asked]:
    rng = random.Random(seed)
    words = sorted(english_words())[:5000]
    bases = [[rng.choice(words) for _ in range(rng.randint(4, 10))] for _ in range(topics)]
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        base = list(bases[rng.randrange(topics)])
        rng.shuffle(base)  # the same words in another order
        out.append(Asked(" ".join(base), "dacorum", "declined", now - timedelta(minutes=i)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=MAX_QUESTIONS)
    n = parser.parse_args().questions
    for topics in (n, max(n // 8, 1)):
        asked = questions(n, topics)
        started = time.perf_counter()
        gaps = _group(asked)
        seconds = time.perf_counter() - started
        print(f"{n} questions on {topics} made-up topics: {len(gaps)} groups in {seconds:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
