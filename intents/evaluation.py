"""Scoring a detector on labelled messages: accuracy, macro-F1, per-intent precision/recall.

>>> rows = [Labelled("hi", "greeting"), Labelled("cheers", "thanks")]
>>> report = score(rows, ["greeting", "greeting"], [0.9, 0.6])
>>> report["accuracy"], report["confusion"]
(0.5, [{'expected': 'thanks', 'predicted': 'greeting', 'count': 1}])
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from intents.detector import IntentDetector
from intents.types import Prediction


@dataclass(frozen=True, slots=True)
class Labelled:
    """One message and the intent it should get."""

    text: str
    intent: str


def parse_jsonl(lines: Iterable[str]) -> list[Labelled]:
    """``{"text": ..., "intent": ...}`` per line (other keys ignored; blank lines skipped)."""
    rows: list[Labelled] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            rows.append(Labelled(str(raw["text"]), str(raw["intent"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number}: want {{'text': ..., 'intent': ...}} ({exc})") from exc
    return rows


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 0.0


def score(
    rows: Sequence[Labelled], predicted: Sequence[str], confidence: Sequence[float]
) -> dict[str, Any]:
    """The report ``itbot intents eval`` prints, from predictions already made."""
    pairs = list(zip((r.intent for r in rows), predicted, strict=True))
    labels = sorted({e for e, _ in pairs} | {p for _, p in pairs})
    per_intent: dict[str, dict[str, float]] = {}
    f1s: list[float] = []
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        n_pred = sum(1 for _, p in pairs if p == label)
        n_true = sum(1 for e, _ in pairs if e == label)
        precision, recall = _ratio(tp, n_pred), _ratio(tp, n_true)
        f1 = round(2 * precision * recall / (precision + recall), 4) if tp else 0.0
        per_intent[label] = {"precision": precision, "recall": recall, "f1": f1, "support": n_true}
        if n_true:
            f1s.append(f1)
    confusion = Counter((e, p) for e, p in pairs if e != p)
    correct = [c for (e, p), c in zip(pairs, confidence, strict=True) if e == p]
    wrong = [c for (e, p), c in zip(pairs, confidence, strict=True) if e != p]
    return {
        "messages": len(pairs),
        "accuracy": _ratio(sum(1 for e, p in pairs if e == p), len(pairs)),
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "mean_confidence_correct": round(sum(correct) / len(correct), 4) if correct else None,
        "mean_confidence_wrong": round(sum(wrong) / len(wrong), 4) if wrong else None,
        "per_intent": per_intent,
        "confusion": [
            {"expected": e, "predicted": p, "count": c}
            for (e, p), c in sorted(confusion.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def evaluate(
    detector: IntentDetector, rows: Sequence[Labelled]
) -> tuple[dict[str, Any], list[Prediction]]:
    """Detect every message and score the predictions; also return them (for ``--results``)."""
    predictions = [detector.detect(r.text) for r in rows]
    report = score(rows, [p.intent for p in predictions], [p.confidence for p in predictions])
    return report, predictions
