"""``itbot intents``: measure, explain and rebuild intent detection.

* ``itbot intents eval --data FILE.jsonl [--results OUT.jsonl]`` - reads ``{"text", "intent"}``
  lines; prints one JSON object: ``accuracy``, ``macro_f1``, ``per_intent`` precision/recall/F1
  and a ``confusion`` list; ``--results`` writes ``{"text", "expected", "predicted",
  "confidence"}`` per message.
* ``itbot intents explain "text" [--json]`` - the decision, runners-up, slots and why.
* ``itbot intents build [--check]`` - calibrate on held-out folds of the examples and write
  ``model.json`` next to them (run it after editing ``intents/data/*.txt``); ``--check`` only
  says whether the shipped file is up to date (exit 1 if not).

``--data-dir`` picks another examples folder (default: the bundled one); ``--semantic`` turns
sentence embeddings on or off (default: ``ITBOT_SEMANTIC``). ``eval`` and ``explain`` see ticket
references with the desk's prefix (``ITBOT_TICKET_PREFIX``), as the bot does; ``build`` keeps
the prefix the examples are written with (``JSD``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.settings import SemanticMode, Settings
from intents import Encoder, IntentDataError, IntentDetector, Prediction
from intents.artefact import MODEL_FILE
from intents.evaluation import evaluate, parse_jsonl
from intents.examples import BUNDLED_DATA
from knowledge.fuzzy import is_english

SEMANTIC_CHOICES = ("auto", "on", "off")


def register(sub: Any) -> None:
    """Add the ``intents`` command and its sub-commands to ``itbot``'s parser."""
    parser = sub.add_parser("intents", help="evaluate, explain and rebuild intent detection")
    commands = parser.add_subparsers(dest="intents_command", metavar="SUBCOMMAND", required=True)

    ev = commands.add_parser("eval", help="accuracy, macro-F1 and confusions on a labelled file")
    ev.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="FILE.jsonl",
        help='lines {"text": ..., "intent": ...}',
    )
    ev.add_argument(
        "--results",
        type=Path,
        metavar="OUT.jsonl",
        help="write one line per message: text, expected, predicted, confidence",
    )
    _common(ev)
    ev.set_defaults(handler=eval_command)

    explain = commands.add_parser("explain", help="show the decision for one message and why")
    explain.add_argument("text", help="the message, as staff would type it")
    explain.add_argument(
        "--expecting",
        metavar="SLOT",
        help='conversation hint, e.g. "ticket_ref" (a bare number is a reference)',
    )
    explain.add_argument("--json", action="store_true", help="print JSON")
    _common(explain)
    explain.set_defaults(handler=explain_command)

    build = commands.add_parser("build", help=f"calibrate and write {MODEL_FILE} for the examples")
    build.add_argument(
        "--check",
        action="store_true",
        help=f"only check that {MODEL_FILE} matches the examples (exit 1 if not)",
    )
    build.add_argument("--folds", type=int, default=5, help="held-out folds (default 5)")
    _common(build)
    build.set_defaults(handler=build_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="intent examples folder (default: the bundled one)",
    )
    parser.add_argument(
        "--semantic",
        choices=SEMANTIC_CHOICES,
        help="sentence embeddings: auto, on or off (default: ITBOT_SEMANTIC)",
    )


def _encoder(args: argparse.Namespace, settings: Settings) -> Encoder | None:
    mode: SemanticMode = args.semantic or settings.semantic
    if mode == "off":
        return None
    from knowledge.dense import open_encoder

    encoder, status = open_encoder(mode, settings.cache_dir)
    print(f"itbot: {status}", file=sys.stderr)
    return encoder


def _load(
    args: argparse.Namespace, settings: Settings, *, as_served: bool = True
) -> IntentDetector | None:
    """The detector for ``args``; ``as_served``: with the desk's ticket prefix, as the bot runs it
    (else the prefix the examples are written with, the detector's default)."""
    try:
        encoder = _encoder(args, settings)
        if not as_served:
            return IntentDetector.load(args.data_dir, encoder=encoder, is_word=is_english)
        return IntentDetector.load(
            args.data_dir,
            encoder=encoder,
            ticket_prefix=settings.ticket_prefix,
            is_word=is_english,
        )
    except IntentDataError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return None


def eval_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with args.data.open(encoding="utf-8") as handle:
            rows = parse_jsonl(handle)
    except (OSError, ValueError) as exc:
        print(f"itbot: cannot read {args.data}: {exc}", file=sys.stderr)
        return 2
    detector = _load(args, settings)
    if detector is None:
        return 2
    started = time.perf_counter()
    report, predictions = evaluate(detector, rows)
    elapsed = time.perf_counter() - started
    report["mean_ms_per_message"] = round(1000 * elapsed / max(len(rows), 1), 3)
    report["embeddings"] = detector.uses_embeddings
    if args.results is not None:
        with args.results.open("w", encoding="utf-8") as out:
            for row, pred in zip(rows, predictions, strict=True):
                line = {
                    "text": row.text,
                    "expected": row.intent,
                    "predicted": pred.intent,
                    "confidence": pred.confidence,
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2))
    return 0


def explain_command(args: argparse.Namespace, settings: Settings) -> int:
    detector = _load(args, settings)
    if detector is None:
        return 2
    context = {"expecting": args.expecting} if args.expecting else None
    pred = detector.explain(args.text, context)
    if args.json:
        print(json.dumps(_as_json(pred), indent=2))
    else:
        print(_as_text(args.text, pred))
    return 0


def build_command(args: argparse.Namespace, settings: Settings) -> int:
    folder: Path = args.data_dir or BUNDLED_DATA
    detector = _load(args, settings, as_served=False)
    if detector is None:
        return 2
    if args.check:
        if detector.shipped_fresh:
            print(f"{folder / MODEL_FILE} is up to date")
            return 0
        print(f"{folder / MODEL_FILE} is out of date: run `itbot intents build`", file=sys.stderr)
        return 1
    text = detector.build(folds=args.folds)
    (folder / MODEL_FILE).write_text(text, encoding="utf-8")
    rebuilt = IntentDetector.load(folder, is_word=is_english)
    summary = {
        "written": str(folder / MODEL_FILE),
        "bytes": len(text.encode()),
        "fingerprint": rebuilt.fingerprint,
        **dict(rebuilt.calibration.measured),
    }
    print(json.dumps(summary, indent=2))
    return 0


def _as_json(pred: Prediction) -> dict[str, Any]:
    return {
        "intent": pred.intent,
        "confidence": pred.confidence,
        "alternatives": [{"intent": i, "probability": p} for i, p in pred.alternatives],
        "slots": asdict(pred.slots),
        "reasons": list(pred.reasons),
    }


def _as_text(text: str, pred: Prediction) -> str:
    lines = [f"message:     {text}", f"intent:      {pred.intent} ({pred.confidence:.0%})"]
    if pred.alternatives:
        others = ", ".join(f"{i} {p:.0%}" for i, p in pred.alternatives)
        lines.append(f"runners-up:  {others}")
    slots = {k: v for k, v in asdict(pred.slots).items() if v not in (None, False)}
    lines.append("slots:       " + (", ".join(f"{k}={v}" for k, v in slots.items()) or "none"))
    lines.append("why:")
    lines.extend(f"  - {reason}" for reason in pred.reasons)
    return "\n".join(lines)
