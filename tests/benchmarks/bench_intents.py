"""Intent detection: load time, per-message latency (p50/p99) and an accuracy ablation.

Run from the repository root::

    python tests/benchmarks/bench_intents.py            # load + latency (+ embeddings if installed)
    python tests/benchmarks/bench_intents.py --ablation # accuracy of each part on both eval sets

Latency is measured per ``detect`` call over the held-out staff messages and the CLINC150
dev messages (each repeated ``--repeat`` times after a warm-up), so p99 covers long and short
messages alike. Besides wall-clock and CPU time, it reports the wall-clock of the calls that
the kernel did not pre-empt (no involuntary context switch), which separates what detection
costs from what other processes on a busy machine cost it.

Load time is measured in a fresh process, with the shipped ``model.json`` and with training at
load (a copy of the examples without ``model.json``). The embedding path runs only when
``knowledge``'s MiniLM encoder is installed (``ITBOT_CACHE_DIR`` holds its example vectors);
its query encoding is also timed on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STAFF = ROOT / "tests" / "data" / "intents_staff_test.jsonl"
CLINC = ROOT.parent / "shared" / "eval" / "intents-dev-clinc.jsonl"

_LOAD_SNIPPET = """
import json, sys, time
started = time.perf_counter()
from intents import IntentDetector
imported = time.perf_counter()
from pathlib import Path
folder = Path(sys.argv[1]) if len(sys.argv) > 1 else None
det = IntentDetector.load(folder)
loaded = time.perf_counter()
det.detect("hello")
print(json.dumps({"import_s": imported - started, "load_s": loaded - imported,
                  "first_detect_s": time.perf_counter() - loaded,
                  "shipped_weights": det.shipped_fresh}))
"""


def _texts() -> list[str]:
    texts = []
    for path in (STAFF, CLINC):
        if path.is_file():
            texts += [json.loads(line)["text"] for line in path.open() if line.strip()]
    return texts


def _percentiles(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 3),
        "p99_ms": round(1000 * p99, 3),
        "max_ms": round(1000 * ordered[-1], 3),
        "calls": len(ordered),
    }


def _fresh_load(folder: Path | None, runs: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        argv = [sys.executable, "-c", _LOAD_SNIPPET] + ([str(folder)] if folder else [])
        out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(results, key=lambda r: r["load_s"])
    return {
        "import_s": round(statistics.median(r["import_s"] for r in results), 3),
        "load_s_median": round(statistics.median(r["load_s"] for r in results), 3),
        "load_s_best": round(best["load_s"], 3),
        "shipped_weights": best["shipped_weights"],
    }


def _latency(detector: Any, texts: list[str], repeat: int) -> dict[str, Any]:
    """Wall-clock and CPU time per call; on a busy machine only the CPU figures are steady."""
    for text in texts[:50]:
        detector.detect(text)
    wall, cpu, undisturbed = [], [], []
    for _ in range(repeat):
        for text in texts:
            switches = resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw
            started, started_cpu = time.perf_counter(), time.thread_time()
            detector.detect(text)
            cpu.append(time.thread_time() - started_cpu)
            wall.append(time.perf_counter() - started)
            if resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw == switches:
                undisturbed.append(wall[-1])
    return {
        "wall": _percentiles(wall),
        "cpu": _percentiles(cpu),
        # calls the kernel did not pre-empt: what the code costs when it has a core
        "wall_not_preempted": _percentiles(undisturbed),
    }


def _encoder() -> tuple[Any, str]:
    try:
        from knowledge.dense import open_encoder
    except ImportError as exc:
        return None, f"knowledge.dense not importable ({exc})"
    try:
        return open_encoder("auto", ROOT / ".itbot-cache")
    except Exception as exc:  # any failure just means "not available here"
        return None, f"encoder failed to load: {exc}"


def bench(repeat: int, runs: int) -> dict[str, Any]:
    from intents import IntentDetector

    texts = _texts()
    report: dict[str, Any] = {"messages": len(texts), "load_average": os.getloadavg()}
    report["load_shipped"] = _fresh_load(None, runs)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(ROOT / "intents" / "data", copy)
        (copy / "model.json").unlink()
        report["load_training_at_load"] = _fresh_load(copy, runs)
    detector = IntentDetector.load()
    report["detect_lexical"] = _latency(detector, texts, repeat)
    encoder, status = _encoder()
    report["embeddings"] = status
    if encoder is not None:
        semantic = IntentDetector.load(encoder=encoder)
        report["detect_with_embeddings"] = _latency(semantic, texts, max(1, repeat // 5))
        wall, cpu = [], []
        for text in texts:
            started, started_cpu = time.perf_counter(), time.thread_time()
            encoder.encode([text])
            cpu.append(time.thread_time() - started_cpu)
            wall.append(time.perf_counter() - started)
        report["query_encoding_only"] = {"wall": _percentiles(wall), "cpu": _percentiles(cpu)}
    return report


def ablation() -> dict[str, Any]:
    """Accuracy of fuzzy alone, the classifier alone, and the combinations, on both sets."""
    from dataclasses import replace

    import numpy as np
    from rapidfuzz import fuzz, process

    from intents import IntentDetector
    from intents.evaluation import evaluate, parse_jsonl

    detector = IntentDetector.load()
    fitted = detector.params
    variants = {
        "classifier alone": replace(fitted, fuzzy_weight=0.0, rule_bonus=0.0, oos_threshold=0.0),
        "classifier + fuzzy": replace(fitted, rule_bonus=0.0, oos_threshold=0.0),
        "classifier + fuzzy + rules": replace(fitted, oos_threshold=0.0),
        "all (+ out-of-scope gate)": fitted,
    }
    names = [n for n in sorted(detector.examples) for _ in detector.examples[n]]
    examples = [
        detector.extractor.normalise(t)
        for n in sorted(detector.examples)
        for t in detector.examples[n]
    ]
    report: dict[str, Any] = {}
    for path in (STAFF, CLINC):
        rows = parse_jsonl(path.open())
        section: dict[str, Any] = {}
        nearest = [
            names[
                process.extractOne(
                    detector.extractor.normalise(r.text), examples, scorer=fuzz.ratio
                )[2]
            ]
            for r in rows
        ]
        section["fuzzy nearest example alone"] = round(
            float(np.mean([p == r.intent for p, r in zip(nearest, rows, strict=True)])), 4
        )
        for label, params in variants.items():
            result, _ = evaluate(detector.using(params), rows)
            section[label] = {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"]}
        report[path.name] = section
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the messages (5)")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per load figure")
    parser.add_argument("--ablation", action="store_true", help="accuracy of each part instead")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    report = ablation() if args.ablation else bench(args.repeat, args.runs)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
