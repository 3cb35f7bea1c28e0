"""all-MiniLM-L6-v2's weights and its forward pass in NumPy: BERT, mean pooling, L2 norm.

:class:`Weights` lays the checked tensors out for both runtimes. :class:`MiniLM` is the
reference forward pass the ONNX graph mirrors, used by tests and the route benchmark; the
bot runs the graph on onnxruntime instead (see :mod:`knowledge.semantic.loader` for why).

The arithmetic is BertModel's (absolute positions, post-layer-norm, exact erf GELU)
followed by sentence-transformers' mean pooling and ``Normalize``, all in float32. The
weights are copied out of the safetensors buffer (so it can be freed) in the layout the
products want, with the query, key and value projections joined into one matrix.

>>> import numpy as np
>>> x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
>>> [round(float(v), 5) for v in gelu(x)]
[-0.00405, -0.15866, 0.0, 0.84134, 2.99595]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]

VOCAB = 30522
HIDDEN = 384
HEADS = 12
HEAD_DIM = HIDDEN // HEADS
LAYERS = 6
INTERMEDIATE = 1536
MAX_POSITIONS = 512
LAYER_NORM_EPS = 1e-12

#: Sequences of similar length are encoded together; a batch holds at most this many
#: tokens (padding included). Small batches were the fastest per token on onnxruntime
#: (0.061 CPU s per 256-token article at 256-512, 0.08-0.11 s at 4096) and keep memory low.
BATCH_TOKENS = 512

# Abramowitz & Stegun 7.1.26: erfc(z) ~ poly(t) exp(-z^2), t = 1/(1 + p z), |error| < 1.5e-7,
# below float32's resolution of the GELU's output.
_P = np.float32(0.3275911)
_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736))
_A1 = np.float32(0.254829592)
_INV_SQRT2 = np.float32(1 / np.sqrt(2))


def gelu(x: Floats) -> Floats:
    """The exact (erf) GELU, ``x * Phi(x)``, computed without cancellation for negative x."""
    z = np.abs(x) * _INV_SQRT2
    t = np.float32(1) / (np.float32(1) + _P * z)
    poly = _A[0] * t
    for a in _A[1:]:
        poly += a
        poly *= t
    poly += _A1
    poly *= t
    # q = Phi(-|x|) = erfc(|x|/sqrt 2) / 2
    np.negative(z, out=z)
    z *= np.abs(x) * _INV_SQRT2
    np.exp(z, out=z)
    q = poly
    q *= z
    q *= np.float32(0.5)
    result = np.where(x >= 0, np.float32(1) - q, q)
    result *= x
    return result


def _layer_norm(x: Floats, gain: Floats, bias: Floats) -> Floats:
    """LayerNorm over the last axis, in place."""
    mean = x.mean(axis=-1, keepdims=True)
    x -= mean
    var = np.einsum("...i,...i->...", x, x)[..., None]
    var *= np.float32(1 / x.shape[-1])
    var += np.float32(LAYER_NORM_EPS)
    np.sqrt(var, out=var)
    x /= var
    x *= gain
    x += bias
    return x


@dataclass(frozen=True, slots=True)
class Layer:
    """One encoder layer's weights, with every projection laid out as ``x @ weight``."""

    qkv_weight: Floats  # (HIDDEN, 3 * HIDDEN); the query part pre-scaled by 1/sqrt(HEAD_DIM)
    qkv_bias: Floats
    out_weight: Floats  # (HIDDEN, HIDDEN)
    out_bias: Floats
    attention_norm: tuple[Floats, Floats]
    up_weight: Floats  # (HIDDEN, INTERMEDIATE)
    up_bias: Floats
    down_weight: Floats  # (INTERMEDIATE, HIDDEN)
    down_bias: Floats
    output_norm: tuple[Floats, Floats]


class WeightsError(ValueError):
    """A tensor is missing or has the wrong shape for all-MiniLM-L6-v2."""


@dataclass(frozen=True, slots=True)
class Weights:
    """The model's weights as the forward pass uses them (own copies, contiguous)."""

    words: Floats  # (VOCAB, HIDDEN)
    positions: Floats  # (MAX_POSITIONS, HIDDEN), token-type 0 embedding folded in
    embedding_norm: tuple[Floats, Floats]
    layers: tuple[Layer, ...]

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, npt.NDArray[Any]]) -> Weights:
        """Check names, shapes and dtypes of BertModel's tensors and rearrange them."""

        def get(name: str, *shape: int) -> Floats:
            try:
                array = tensors[name]
            except KeyError:
                raise WeightsError(f"tensor {name} is missing") from None
            if array.shape != shape or array.dtype != np.float32:
                raise WeightsError(
                    f"tensor {name} is {array.dtype}{list(array.shape)}, not float32{list(shape)}"
                )
            return array

        def linear(name: str, out_dim: int, in_dim: int) -> Floats:
            # Contiguous (in, out): OpenBLAS is markedly faster on it than on a transposed view.
            return np.ascontiguousarray(get(name + ".weight", out_dim, in_dim).T)

        def norm(name: str) -> tuple[Floats, Floats]:
            return (np.array(get(name + ".weight", HIDDEN)), np.array(get(name + ".bias", HIDDEN)))

        scale = np.float32(1 / np.sqrt(HEAD_DIM))
        layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            attention = p + "attention.self."
            qkv_weight = np.concatenate(
                [
                    linear(attention + "query", HIDDEN, HIDDEN) * scale,
                    linear(attention + "key", HIDDEN, HIDDEN),
                    linear(attention + "value", HIDDEN, HIDDEN),
                ],
                axis=1,
            )
            qkv_bias = np.concatenate(
                [
                    get(attention + "query.bias", HIDDEN) * scale,
                    get(attention + "key.bias", HIDDEN),
                    get(attention + "value.bias", HIDDEN),
                ]
            )
            layers.append(
                Layer(
                    qkv_weight=qkv_weight,
                    qkv_bias=qkv_bias,
                    out_weight=linear(p + "attention.output.dense", HIDDEN, HIDDEN),
                    out_bias=np.array(get(p + "attention.output.dense.bias", HIDDEN)),
                    attention_norm=norm(p + "attention.output.LayerNorm"),
                    up_weight=linear(p + "intermediate.dense", INTERMEDIATE, HIDDEN),
                    up_bias=np.array(get(p + "intermediate.dense.bias", INTERMEDIATE)),
                    down_weight=linear(p + "output.dense", HIDDEN, INTERMEDIATE),
                    down_bias=np.array(get(p + "output.dense.bias", HIDDEN)),
                    output_norm=norm(p + "output.LayerNorm"),
                )
            )
        token_type = get("embeddings.token_type_embeddings.weight", 2, HIDDEN)
        return cls(
            words=np.array(get("embeddings.word_embeddings.weight", VOCAB, HIDDEN)),
            # Every token has type 0, so its embedding folds into the position table.
            positions=get("embeddings.position_embeddings.weight", MAX_POSITIONS, HIDDEN)
            + token_type[0],
            embedding_norm=norm("embeddings.LayerNorm"),
            layers=tuple(layers),
        )


def padded_batches(
    sequences: Sequence[Sequence[int]], budget: int = BATCH_TOKENS
) -> Iterator[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]]:
    """Group sequences of similar length: yields (row numbers, padded ids, 0/1 mask).

    A batch holds at most ``budget`` tokens, padding included (a longer sequence goes alone).
    """
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and len(sequences[order[stop]]) * (stop + 1 - start) <= budget:
            stop += 1
        rows = np.array(order[start:stop], dtype=np.intp)
        length = len(sequences[order[stop - 1]])
        if length > MAX_POSITIONS:
            raise ValueError(f"a sequence has {length} tokens; the model takes {MAX_POSITIONS}")
        ids = np.zeros((len(rows), length), dtype=np.intp)
        mask = np.zeros((len(rows), length), dtype=np.float32)
        for row, i in enumerate(order[start:stop]):
            ids[row, : len(sequences[i])] = sequences[i]
            mask[row, : len(sequences[i])] = 1
        yield rows, ids, mask
        start = stop


class MiniLM:
    """Token ids in, unit-length 384-dimensional sentence embeddings out. Thread-safe."""

    dim = HIDDEN

    def __init__(self, weights: Weights) -> None:
        self._weights = weights

    def embed(self, sequences: Sequence[Sequence[int]]) -> Floats:
        """Embeddings of token-id sequences (each with its ``[CLS]``/``[SEP]``), in order."""
        out = np.empty((len(sequences), HIDDEN), dtype=np.float32)
        for rows, ids, mask in padded_batches(sequences):
            out[rows] = self._embed_batch(ids, mask)
        return out

    def _embed_batch(self, ids: npt.NDArray[np.intp], mask: Floats) -> Floats:
        size, length = ids.shape
        w = self._weights
        padded = bool(mask.min() == 0)
        # Padding keys get a large negative score, as BertModel's extended attention mask does.
        bias = ((mask - 1) * np.finfo(np.float32).max)[:, None, None, :] if padded else None

        hidden = w.words[ids]
        hidden += w.positions[:length]
        hidden = _layer_norm(hidden.reshape(size * length, HIDDEN), *w.embedding_norm)
        for layer in w.layers:
            hidden = self._layer(hidden, layer, size, length, bias)

        hidden = hidden.reshape(size, length, HIDDEN)
        if padded:
            pooled = np.einsum("blh,bl->bh", hidden, mask) / mask.sum(axis=1, keepdims=True)
        else:
            pooled = hidden.mean(axis=1)
        norms: Floats = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Floats = (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
        return unit

    @staticmethod
    def _layer(hidden: Floats, layer: Layer, size: int, length: int, bias: Floats | None) -> Floats:
        qkv = hidden @ layer.qkv_weight
        qkv += layer.qkv_bias
        # (size, length, 3, heads, head_dim) -> 3 x (size, heads, length, head_dim)
        q, k, v = qkv.reshape(size, length, 3, HEADS, HEAD_DIM).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        if bias is not None:
            scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(size * length, HIDDEN)
        attended = context @ layer.out_weight
        attended += layer.out_bias
        attended += hidden
        hidden = _layer_norm(attended, *layer.attention_norm)

        up = hidden @ layer.up_weight
        up += layer.up_bias
        down = gelu(up) @ layer.down_weight
        down += layer.down_bias
        down += hidden
        return _layer_norm(down, *layer.output_norm)
