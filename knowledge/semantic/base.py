"""The :class:`Encoder` interface, importable without loading NumPy or a model.

An encoder turns texts into float32 unit vectors (mean-pooled, L2-normalised, exactly as
sentence-transformers does for this model), either directly (:meth:`Encoder.encode`, for
queries) or through the on-disk cache (:meth:`Encoder.encode_cached`, for articles, so
that restarts and reloads only encode what changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Encoder(Protocol):
    """Sentence embeddings: ``encode(texts)`` is a float32 ``(len(texts), dim)`` array of unit rows.

    Safe to call from a worker thread. Example (needs the model installed)::

        encoder, status = load_encoder("auto", Path(".cache/itbot"))
        if encoder is not None:
            q = encoder.encode(["my diary won't show my colleague's appointments"])[0]
            docs = encoder.encode_cached(["Open a colleague's calendar", "Reset your password"])
            best = int((docs @ q).argmax())   # 0
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def encode_cached(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class TokenModel(Protocol):
    """A forward pass: token-id sequences in, unit sentence vectors out."""

    dim: int

    def embed(self, sequences: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]: ...
