"""The sentence-embedding path: with a stand-in encoder always, with MiniLM when installed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from intents import IntentDetector
from intents.calibration import UNFITTED_EMBEDDING_WEIGHT
from intents.evaluation import evaluate, parse_jsonl

STAFF = Path(__file__).resolve().parents[1] / "data" / "intents_staff_test.jsonl"


class TrigramEncoder:
    """A stand-in for MiniLM: hashed character trigrams, L2-normalised (same interface)."""

    dim = 256

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.cached_calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()}  "
            for i in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=2).digest()
                out[row, int.from_bytes(digest, "big") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = out / np.maximum(norms, 1e-9)
        return result


class CachingTrigramEncoder(TrigramEncoder):
    def encode_cached(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.cached_calls.append(len(texts))
        return self.encode(texts)


@pytest.fixture(scope="module")
def toy() -> IntentDetector:
    return IntentDetector.load(encoder=TrigramEncoder())


def test_the_embedding_path_takes_part_and_says_so(toy: IntentDetector) -> None:
    assert toy.uses_embeddings
    pred = toy.detect("my mobile got nicked and now I can't get the sign in code")
    assert pred.intent == "reset_mfa"
    assert any("closest example by meaning" in r for r in pred.reasons)


def test_without_a_fitted_semantic_calibration_a_documented_weight_is_used(
    toy: IntentDetector,
) -> None:
    if toy.calibration.semantic is None:
        assert toy.params.embedding_weight == UNFITTED_EMBEDDING_WEIGHT
    else:
        assert toy.params == toy.calibration.semantic


def test_the_staff_set_still_passes_with_a_weak_encoder(toy: IntentDetector) -> None:
    report, _ = evaluate(toy, parse_jsonl(STAFF.read_text().splitlines()))
    assert report["accuracy"] >= 0.93


def test_examples_go_through_the_encoder_cache_when_it_has_one() -> None:
    encoder = CachingTrigramEncoder()
    det = IntentDetector.load(encoder=encoder)
    assert encoder.cached_calls == [sum(len(v) for v in det.examples.values())]
    encoder.calls.clear()
    det.detect("hello")
    assert encoder.calls == [1]  # the message itself is encoded directly


def test_an_encoder_of_the_wrong_shape_is_refused() -> None:
    class Broken:
        def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            return np.zeros((1, 4), np.float32)

    with pytest.raises(ValueError, match="encoder returned shape"):
        IntentDetector.load(encoder=Broken())


@pytest.mark.slow
def test_with_the_knowledge_packages_minilm_encoder(minilm: Any) -> None:
    det = IntentDetector.load(encoder=minilm)
    assert det.uses_embeddings
    # Every fourth message keeps the test quick (each one is encoded, ~5 ms); the whole set is
    # measured by `itbot intents eval --semantic on`.
    rows = parse_jsonl(STAFF.read_text().splitlines())[::4]
    report, _ = evaluate(det, rows)
    print(f"with MiniLM on {len(rows)} messages: accuracy {report['accuracy']}")
    assert report["accuracy"] >= 0.95
    assert report["macro_f1"] >= 0.93


def test_build_fits_the_embedding_weight_when_an_encoder_is_given(tmp_path: Path) -> None:
    from intents import artefact

    for intent, lines in {
        "greeting": ["hello", "hi there", "good morning", "hiya", "hey", "morning all"],
        "thanks": ["thanks", "cheers", "thank you", "ta very much", "much appreciated", "ty"],
        "out_of_scope": [
            "weather today",
            "tell me a joke",
            "book leave",
            "what's for lunch",
            "who won the match",
            "bin day",
        ],
    }.items():
        (tmp_path / f"{intent}.txt").write_text("\n".join(lines) + "\n")
    det = IntentDetector.load(tmp_path, encoder=TrigramEncoder())
    shipped = artefact.loads(det.build(folds=3))
    assert shipped.calibration.semantic is not None
    assert "semantic_held_out_accuracy" in shipped.calibration.measured
