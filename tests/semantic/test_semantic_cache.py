"""The on-disk embedding cache: hits skip the model, restarts reuse it, processes share it."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge.semantic import messages
from knowledge.semantic.cache import EmbeddingCache
from knowledge.semantic.encoder import MiniLMEncoder
from knowledge.semantic.loader import open_minilm
from knowledge.semantic.model_files import find_model_dir
from knowledge.semantic.wordpiece import WordPiece
from tests.conftest import need

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "calendar", "password", "reset", "open", "my"]


class CountingModel:
    """A stand-in forward pass that counts the texts it is given (vectors depend on the ids)."""

    dim = 8

    def __init__(self) -> None:
        self.texts = 0

    def embed(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        self.texts += len(sequences)
        out = np.zeros((len(sequences), self.dim), np.float32)
        for row, ids in enumerate(sequences):
            for position, token in enumerate(ids):
                out[row, (token + position) % self.dim] += 1.0 + token
        unit: np.ndarray = out / np.linalg.norm(out, axis=1, keepdims=True)
        return unit


def make_encoder(cache_dir: Path | None) -> tuple[MiniLMEncoder, CountingModel]:
    model = CountingModel()
    encoder = MiniLMEncoder(
        model, WordPiece(VOCAB), name="fake", runtime="test", model_id="fake@1", cache_dir=cache_dir
    )
    return encoder, model


TEXTS = ["reset my password", "open my calendar", "reset my password", "calendar"]


def test_a_cache_hit_returns_identical_vectors_without_the_model(tmp_path):
    encoder, model = make_encoder(tmp_path)
    first = encoder.encode_cached(TEXTS)
    assert model.texts == 3  # the repeated text is encoded once
    assert encoder.encoded == 3
    assert encoder.cache is not None
    assert encoder.cache.count() == 3
    second = encoder.encode_cached(list(reversed(TEXTS)))
    assert model.texts == 3
    assert np.array_equal(second, first[::-1])
    np.testing.assert_array_equal(first, encoder.encode(TEXTS))


def test_a_restart_reuses_the_cache_and_encodes_only_new_texts(tmp_path):
    first, _ = make_encoder(tmp_path)
    vectors = first.encode_cached(TEXTS)
    second, model = make_encoder(tmp_path)  # a new process would see the same folder
    again = second.encode_cached([*TEXTS, "open calendar"])
    assert model.texts == 1
    assert np.array_equal(again[: len(TEXTS)], vectors)


def test_another_model_id_does_not_see_the_vectors(tmp_path):
    encoder, _ = make_encoder(tmp_path)
    encoder.encode_cached(TEXTS)
    other = EmbeddingCache(tmp_path / "embeddings" / "fake@1", model_id="fake@2", dim=8)
    assert other.get_many(TEXTS) == [None] * len(TEXTS)


def test_no_cache_dir_means_no_files_and_always_encoding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    encoder, model = make_encoder(None)
    encoder.encode_cached(TEXTS)
    encoder.encode_cached(TEXTS)
    assert model.texts == 8
    assert encoder.cache is None
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path):
    encoder, model = make_encoder(tmp_path)
    good = encoder.encode_cached(["reset my password"])
    assert encoder.cache is not None
    (entry,) = encoder.cache.folder.glob("??/*.f32")
    entry.write_bytes(entry.read_bytes()[:10])
    again = encoder.encode_cached(["reset my password"])
    assert model.texts == 2
    np.testing.assert_array_equal(again, good)
    assert len(entry.read_bytes()) == 8 * 4
    entry.write_bytes(np.full(8, np.nan, "<f4").tobytes())
    encoder.encode_cached(["reset my password"])
    assert model.texts == 3


def test_an_unwritable_cache_still_encodes_and_warns_once(tmp_path, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    encoder, model = make_encoder(blocker)
    with caplog.at_level(logging.WARNING, logger="knowledge.semantic.cache"):
        vectors = encoder.encode_cached(TEXTS)
        encoder.encode_cached(["open my calendar"])
    assert vectors.shape == (4, 8)
    assert model.texts == 4
    assert len([r for r in caplog.records if "not writable" in r.getMessage()]) == 1


#: one writer: its own Python process (not multiprocessing's spawn, which re-imports the
#: parent's main module and so can't start under pytest-xdist's workers)
WRITER = """
import sys
from pathlib import Path
import numpy as np
from knowledge.semantic.cache import EmbeddingCache

folder, worker = Path(sys.argv[1]), int(sys.argv[2])
cache = EmbeddingCache(folder, model_id="shared", dim=384)
rng = np.random.default_rng(0)  # every writer writes the same vectors for the same texts
texts = [f"text {i}" for i in range(200)]
vectors = rng.standard_normal((200, 384)).astype(np.float32)
for _ in range(3):
    cache.put_many(texts[worker % 2 :], vectors[worker % 2 :])
    assert all(v is not None for v in cache.get_many(texts[150:]))
"""


def test_two_processes_can_share_the_folder(tmp_path):
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(i)]) for i in range(2)
    ]
    assert [p.wait(timeout=60) for p in workers] == [0, 0]
    cache = EmbeddingCache(tmp_path, model_id="shared", dim=384)
    assert cache.count() == 200
    assert not list(tmp_path.glob("??/.tmp-*"))  # no temporary files left behind
    expected = np.random.default_rng(0).standard_normal((200, 384)).astype(np.float32)
    stored = cache.get_many([f"text {i}" for i in range(200)])
    np.testing.assert_array_equal(np.stack(stored), expected)  # type: ignore[arg-type]


def test_the_real_encoder_caches_articles(tmp_path):
    need(find_model_dir() is not None, f"the model is not installed ({messages.INSTALL_MODEL})")
    encoder = open_minilm(tmp_path, runtime="numpy")
    texts = ["Open a colleague's calendar", "Reset your password", "Share a file"]
    first = encoder.encode_cached(texts)
    assert encoder.encoded == 3
    restarted = open_minilm(tmp_path, runtime="numpy")
    second = restarted.encode_cached(texts)
    assert restarted.encoded == 0
    assert np.array_equal(first, second)
    np.testing.assert_allclose(second, encoder.encode(texts), atol=2e-6)
    assert encoder.cache is not None
    assert encoder.cache.folder.is_relative_to(tmp_path / "embeddings")


@pytest.mark.parametrize("text", ["", "ünïcödé \udcff lone surrogate"])
def test_any_text_has_a_key(tmp_path, text):
    cache = EmbeddingCache(tmp_path, model_id="m", dim=2)
    cache.put_many([text], np.array([[0.6, 0.8]], np.float32))
    assert cache.get_many([text])[0] is not None
