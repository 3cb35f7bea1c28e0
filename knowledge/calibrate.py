"""Fit the answer/choose/decline models of :mod:`knowledge.decide` on generated data.

Run ``python -m knowledge.calibrate [--semantic on|off]``. It builds questions from
the bundled articles so that they are *unfamiliar* to the index:

* each article's ``questions:`` are removed from the index and asked instead
  (every second one with a typo added);
* two body sentences per article are cut out of the indexed body and asked instead
  (like an error message quoted from an article that no longer contains it);

plus the out-of-scope questions in ``knowledge/calibration/out_of_scope.txt``,
written for this purpose; and, with ``--also KB QUESTIONS`` (lexical mode), the questions
of a development set asked of its own knowledge base (``itbot kb eval``'s format), so the
decline model also sees a larger, unfamiliar knowledge base and out-of-scope questions
nobody here wrote (it shapes only the "is any hit right?" model and its threshold).
It fits two logistic models on the search signals, picks the thresholds, and prints
them (``--write`` saves them to ``knowledge/calibration/{lexical,hybrid}.json``, which
:mod:`knowledge.decide` loads). The committed ``lexical.json`` is fitted with
``--also ../shared/eval/external-dev/kb ../shared/eval/external-dev/questions.jsonl``.
No held-out evaluation data is read.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.article import Article
from knowledge.base import KnowledgeBase, bundled_root
from knowledge.decide import FEATURES, Calibration, Model, calibration_json, off_topic_examples
from knowledge.dense import DenseIndex, SemanticMode, open_encoder
from knowledge.evaluate import read_questions
from knowledge.fuzzy import similarity
from knowledge.search import Index
from knowledge.synonyms import default_synonyms
from knowledge.text import normalise

#: Share of in-scope calibration questions the decline threshold may turn away.
MAX_IN_SCOPE_DECLINED = 0.04
#: Precision the top hit must reach for "answer" rather than "choose".
ANSWER_PRECISION = 0.85
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True, slots=True)
class Sample:
    q: str
    expected: str | None  # None = out of scope
    council: str | None
    kind: str


def add_typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice("dst")
    if kind == "d":
        return word[:i] + word[i + 1 :]
    if kind == "s":
        return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _typo_sentence(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    words[i] = add_typo(words[i], rng)
    return " ".join(words)


def generate(
    articles: Sequence[Article], councils: Sequence[str], seed: int = 7, mode: str = "hybrid"
) -> tuple[list[Article], list[Sample]]:
    """Articles with their questions and two sentences cut, and the samples to ask."""
    rng = random.Random(seed)
    stripped: list[Article] = []
    samples: list[Sample] = []
    for n, article in enumerate(articles):
        council = article.councils[0] if article.councils else councils[n % len(councils)]
        for i, question in enumerate(article.questions):
            q = _typo_sentence(question, rng) if i % 2 else question
            samples.append(Sample(q, article.id, council, "typo" if i % 2 else "question"))
        body = article.body
        sentences = [
            s.strip(" -*#>\t")
            for s in _SENTENCE_RE.split(body)
            if 6 <= len(s.split()) <= 25 and ":::" not in s and "](" not in s
        ]
        for sentence in rng.sample(sentences, min(2, len(sentences))):
            body = body.replace(sentence, " ")
            samples.append(Sample(sentence, article.id, council, "sentence"))
        stripped.append(dataclasses.replace(article, questions=(), body=body))
    for i, q in enumerate(off_topic_examples(mode)):
        samples.append(Sample(q, None, councils[i % len(councils)], "out-of-scope"))
    return stripped, samples


def collect(
    kb: KnowledgeBase, samples: Sequence[Sample], index: Index
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    """Signals, in-scope labels, top-1-correct labels and kinds for every sample.

    An out-of-scope sample is one of the examples the ``off_topic`` signal compares
    with, so for it that signal is taken over the *other* examples (leave one out),
    as for a question the bot has never seen.
    """
    rows, scope, top1, kinds = [], [], [], []
    dense = index.dense
    examples = off_topic_examples("hybrid" if dense is not None else "lexical")
    known = dense.encoder.encode_cached(examples) if dense is not None else None
    for sample in samples:
        eligible = np.array(
            [
                index.articles[s].applies_to(sample.council) if s in index.articles else False
                for s in range(index.n_slots)
            ]
        )
        explained = index.search(sample.q, eligible, 10)
        hits = [h.article.id for h in explained.result.hits]
        features = dict(explained.features)
        if dense is not None and known is not None and sample.expected is None:
            sims = known @ dense.query_vector(explained.query.corrected_text)
            others = [i for i, e in enumerate(examples) if e != sample.q]
            features["off_topic"] = float(np.max(sims[others]))
        if sample.expected is None:
            others_text = [normalise(e) for e in examples if e != sample.q]
            features["off_topic_words"] = similarity(normalise(sample.q), others_text)
        rows.append([features.get(f, 0.0) for f in FEATURES])
        scope.append(float(sample.expected is not None))
        top1.append(float(bool(hits) and hits[0] == sample.expected))
        kinds.append(sample.kind)
    return np.array(rows), np.array(scope), np.array(top1), kinds


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], l2: float = 0.1
) -> npt.NDArray[np.float64]:
    """Bias + weights by Newton's method with a little L2 (bias not penalised)."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _predict(w: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = np.clip(w[0] + x @ w[1:], -30, 30)
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
    return result


def _model(w: npt.NDArray[np.float64], names: Sequence[str]) -> Model:
    return Model(float(w[0]), {n: float(v) for n, v in zip(names, w[1:], strict=True)})


def development_samples(kb_dir: Path, questions: Path) -> tuple[KnowledgeBase, Index, list[Sample]]:
    """A development set's questions, with a lexical index of its own knowledge base."""
    kb = KnowledgeBase.load(kb_dir, semantic="off")
    index = Index(default_synonyms(), None)
    index.update(dict(enumerate(kb.articles())))
    samples = [
        Sample(
            q.q,
            q.expected[0] if q.expected else None,
            q.council,
            "dev" + ("" if q.expected else "-oos"),
        )
        for q in read_questions(questions)
    ]
    return kb, index, samples


def calibrate(
    mode: SemanticMode, cache_dir: Path | None, also: tuple[Path, Path] | None = None
) -> tuple[Calibration, str]:
    """Fit the calibration for ``mode``; also return a report of how it does."""
    kb = KnowledgeBase.load(bundled_root(), semantic="off")
    encoder, status = open_encoder(mode, cache_dir)
    kind = "hybrid" if encoder is not None else "lexical"
    stripped, samples = generate(kb.articles(), kb.councils, mode=kind)
    index = Index(default_synonyms(), DenseIndex(encoder) if encoder else None)
    index.update(dict(enumerate(stripped)))
    x, scope, top1, kinds = collect(kb, samples, index)
    if also is not None:
        if encoder is not None:
            raise SystemExit("--also is for the lexical mode (--semantic off)")
        dev_kb, dev_index, dev = development_samples(*also)
        dx, dscope, dtop1, dkinds = collect(dev_kb, dev, dev_index)
        x, scope, top1 = (
            np.vstack([x, dx]),
            np.concatenate([scope, dscope]),
            np.concatenate([top1, dtop1]),
        )
        kinds += dkinds
        samples += dev
    own = np.array([not k.startswith("dev") for k in kinds])
    hybrid_only = ("semantic", "semantic_max", "off_topic")
    lexical_only = (
        "it_share",
        "pairs",
        "everyday",
        "general",
    )  # hybrid keeps its fitted model until it is refitted
    names = [f for f in FEATURES if encoder is not None or f not in hybrid_only]
    if encoder is not None:
        names = [n for n in names if n not in lexical_only]
    if encoder is None:
        names = [n for n in names if n != "agree"]
    cols = [FEATURES.index(n) for n in names]
    xs = x[:, cols]
    w_scope = fit_logistic(xs, scope)
    p_scope = _predict(w_scope, xs)
    in_scope = scope == 1
    decline_below = float(np.quantile(p_scope[in_scope], MAX_IN_SCOPE_DECLINED))
    kept = in_scope & (p_scope >= decline_below) & own  # "answer or choose" from our own articles
    top_names = [
        n for n in names if n in ("coverage", "gap", "fuzzy", "semantic", "agree", "lexical")
    ]
    tcols = [names.index(n) for n in top_names]
    w_top = fit_logistic(xs[kept][:, tcols], top1[kept])
    p_top = _predict(w_top, xs[kept][:, tcols])
    answer_above = 0.5
    for t in np.linspace(0.3, 0.95, 66):
        chosen = p_top >= t
        if chosen.any() and top1[kept][chosen].mean() >= ANSWER_PRECISION:
            answer_above = float(t)
            break
    report = [f"# {status}; {len(samples)} samples ({int(in_scope.sum())} in scope)"]
    for kind in sorted(set(kinds)):
        sel = np.array([k == kind for k in kinds])
        declined = (p_scope[sel] < decline_below).mean()
        report.append(
            f"#   {kind:13} n={int(sel.sum()):4}  top1={top1[sel].mean():.3f}  "
            f"declined={declined:.3f}"
        )
    calibration = Calibration(
        in_scope=_model(w_scope, names),
        top1=_model(w_top, top_names),
        decline_below=decline_below,
        answer_above=answer_above,
    )
    return calibration, "\n".join(report)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m knowledge.calibrate")
    parser.add_argument("--semantic", choices=("on", "off"), default="off")
    parser.add_argument("--cache-dir", type=Path, default=Path(".itbot-cache"))
    parser.add_argument(
        "--also",
        nargs=2,
        type=Path,
        metavar=("KB", "QUESTIONS"),
        help="also fit the decline model on a development set (lexical mode)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="save it as knowledge/calibration/{lexical,hybrid}.json",
    )
    args = parser.parse_args(argv)
    also = (args.also[0], args.also[1]) if args.also else None
    calibration, report = calibrate(args.semantic, args.cache_dir, also)
    print(report)
    text = calibration_json(calibration)
    print(text)
    if args.write:
        name = "hybrid" if args.semantic == "on" else "lexical"
        target = Path(__file__).resolve().parent / "calibration" / f"{name}.json"
        target.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
