"""Answer, choose or decline: a calibrated confidence from the best hits' signals.

Two small logistic models, fitted offline by :mod:`knowledge.calibrate` on questions
generated from the bundled articles and on out-of-scope questions written for the
purpose (``knowledge/calibration/``), never on evaluation data:

* ``in_scope``: is any of the top hits right? Below ``decline_below`` -> decline.
* ``top1``: is the best hit the right one? At or above ``answer_above`` -> answer;
  otherwise offer the close candidates -> choose.

Each mode (lexical-only, hybrid) has its own coefficients because the semantic
signals are missing without the embedding model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from knowledge.results import CLEARLY_IT, Decision

#: Signals the models use, in order. All lie roughly in 0..1.
FEATURES = (
    "coverage",  # share of the question's informative words the best hit contains
    "lexical",  # best hit's BM25F score over the question's maximum possible score
    "unknown",  # share of the question's informative words no article contains
    "fuzzy",  # fuzzy similarity of the question to the best hit's title/questions
    "semantic",  # cosine similarity of the question to the best hit (hybrid only)
    "semantic_max",  # best cosine similarity over all eligible articles (hybrid only)
    "off_topic",  # best cosine similarity to known out-of-scope requests (hybrid only)
    "off_topic_words",  # fuzzy word similarity to the closest known out-of-scope request
    "pairs",  # share of the question's neighbouring-word pairs the best hit has as phrases
    "it_share",  # share of the question's informative words that are IT vocabulary or codes
    "everyday",  # share of them from everyday non-IT families (weather, food, money, ...)
    "general",  # share of them common in general English but rare in the articles
    "gap",  # relative fused-score gap between the best and second hit
    "agree",  # 1 when the retrievers' first choices agree
)


@dataclass(frozen=True, slots=True)
class Model:
    """A logistic model over :data:`FEATURES`."""

    bias: float
    weights: Mapping[str, float]

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True, slots=True)
class Calibration:
    in_scope: Model
    top1: Model
    decline_below: float
    answer_above: float
    #: A hit is offered as a choice when its fused score is within this share of the best.
    choice_within: float = 0.5


def off_topic_examples(mode: str = "hybrid") -> list[str]:
    """Requests an IT knowledge base doesn't answer (``calibration/out_of_scope.txt``).

    They calibrate declining, and the question's closeness to the nearest of them is a
    decline signal (``off_topic_words``; in hybrid mode also ``off_topic``, by cosine).
    In ``lexical`` mode the intent detector's out-of-scope examples
    (``intents/data/out_of_scope.txt``) are added: word similarity is all that mode has,
    so it needs more of the ways people ask for things that aren't IT.
    """
    text = resources.files("knowledge").joinpath("calibration/out_of_scope.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    if mode == "lexical":
        extra = resources.files("intents").joinpath("data/out_of_scope.txt")
        lines += extra.read_text(encoding="utf-8").splitlines()
    found = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return list(dict.fromkeys(found))


def load_calibration(mode: str) -> Calibration:
    """The fitted calibration for ``mode`` (``lexical`` or ``hybrid``), from
    ``knowledge/calibration/{mode}.json``, written by ``python -m knowledge.calibrate``."""
    source = resources.files("knowledge").joinpath(f"calibration/{mode}.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    return Calibration(
        in_scope=Model(float(data["in_scope"]["bias"]), dict(data["in_scope"]["weights"])),
        top1=Model(float(data["top1"]["bias"]), dict(data["top1"]["weights"])),
        decline_below=float(data["decline_below"]),
        answer_above=float(data["answer_above"]),
        choice_within=float(data.get("choice_within", 0.5)),
    )


def calibration_json(calibration: Calibration) -> str:
    """``calibration`` as the JSON :func:`load_calibration` reads."""

    def model(m: Model) -> dict[str, object]:
        return {"bias": round(m.bias, 4), "weights": {k: round(v, 4) for k, v in m.weights.items()}}

    return json.dumps(
        {
            "in_scope": model(calibration.in_scope),
            "top1": model(calibration.top1),
            "decline_below": round(calibration.decline_below, 4),
            "answer_above": round(calibration.answer_above, 4),
            "choice_within": calibration.choice_within,
        },
        indent=2,
    )


LEXICAL = load_calibration("lexical")
HYBRID = load_calibration("hybrid")


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    confidence: float
    n_choices: int


#: A question that only names a topic ("email", "my outlook") is answered outright only when
#: its best guide is this far ahead of the next (relative fused-score gap); otherwise the
#: close ones are offered. (On the development sets' one-word questions the best was at least
#: 15% ahead lexical-only and 22% with embeddings; bare topic words such as "email" or
#: "outlook": 1-9%.)
TOPIC_GAP = 0.1


def decide(
    features: Mapping[str, float],
    fused: Sequence[float],
    calibration: Calibration,
    *,
    topic: bool = False,
) -> Verdict:
    """The decision for a ranking with fused scores ``fused`` (best first); ``topic`` says
    the question only names a topic, so a sure best guide must also be clearly ahead."""
    if not fused:
        return Verdict("decline", 0.0, 0)
    p_scope = calibration.in_scope.probability(features)
    if p_scope < calibration.decline_below:
        confidence = p_scope * calibration.top1.probability(features)
        if features.get("it_share", 0.0) >= CLEARLY_IT and features.get("coverage", 0.0) > 0:
            # clearly about IT but no clear article: offer the closest, never "not IT"
            return Verdict("choose", confidence, min(3, len(fused)))
        return Verdict("decline", confidence, 0)
    p_top1 = calibration.top1.probability(features)
    confidence = p_scope * p_top1
    close = [f for f in fused[:3] if f >= fused[0] * (1.0 - calibration.choice_within)]
    # a topic's guide is clear when well ahead, and first for the words and the meaning
    # alike ("my email isn't working": *Emails stuck in the Outbox*, first by meaning
    # only, was a guess)
    clear = not topic or (
        features.get("gap", 1.0) >= TOPIC_GAP and features.get("agree", 1.0) == 1.0
    )
    if (p_top1 >= calibration.answer_above and clear) or len(close) < 2:
        return Verdict("answer", confidence, 1)
    return Verdict("choose", confidence, len(close))
