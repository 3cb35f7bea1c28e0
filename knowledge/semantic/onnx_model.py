"""all-MiniLM-L6-v2 on onnxruntime, with the ONNX graph built from the safetensors weights.

No exported ``.onnx`` file is needed and nothing is downloaded: at load the graph is
written in memory (:mod:`knowledge.semantic.onnx_proto`) from the verified weights, so it
is exactly the arithmetic of :mod:`knowledge.semantic.minilm` in standard ONNX operators
(opset 18; onnxruntime's optimiser fuses the bias and GELU). Building it takes about 0.3 s
and needs no disk, so there is no graph file to cache, to go stale or to tamper with.

Queries run on one intra-op thread: on a two-core server that keeps latency steady while
the other core serves requests (two threads save about a millisecond per query when the
machine is idle, and cost several when it is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from knowledge.semantic import minilm
from knowledge.semantic.minilm import HEAD_DIM, HEADS, HIDDEN, Floats, Weights
from knowledge.semantic.onnx_proto import FLOAT, INT64, Graph, model_bytes

OPSET = 18
_OUTPUT = "sentence_embedding"


def build_model(weights: Weights) -> bytes:
    """The serialised ONNX model: token ids and mask in, unit sentence vectors out."""
    g = Graph("all-MiniLM-L6-v2")
    g.input("input_ids", INT64, ["batch", "tokens"])
    g.input("attention_mask", INT64, ["batch", "tokens"])

    def const(name: str, value: Any, dtype: str = "float32") -> str:
        return g.constant(name, np.asarray(value, dtype=dtype))

    def layer_norm(x: str, norm: tuple[Floats, Floats], prefix: str) -> str:
        gain, bias = const(prefix + ".gain", norm[0]), const(prefix + ".bias", norm[1])
        return g.node("LayerNormalization", [x, gain, bias], axis=-1, epsilon=minilm.LAYER_NORM_EPS)

    def dense(x: str, weight: Floats, bias: Floats, prefix: str) -> str:
        product = g.node("MatMul", [x, const(prefix + ".weight", weight)])
        return g.node("Add", [product, const(prefix + ".bias", bias)])

    # Embeddings: word + (position + token type 0), then layer norm.
    words = g.node("Gather", [const("words", weights.words), "input_ids"])
    length = g.node(
        "Slice",
        [g.node("Shape", ["input_ids"]), const("one", [1], "int64"), const("two", [2], "int64")],
    )
    zero = const("zero", [0], "int64")
    positions = g.node("Slice", [const("positions", weights.positions), zero, length, zero])
    hidden = layer_norm(g.node("Add", [words, positions]), weights.embedding_norm, "embeddings")

    # Padding keys get a large negative score, as BertModel's extended attention mask does.
    mask = g.node("Cast", ["attention_mask"], to=FLOAT)
    padding = g.node("Sub", [const("one_f", 1.0), mask])
    key_bias = g.node("Mul", [padding, const("neg_max", np.finfo(np.float32).min)])
    key_bias = g.node("Unsqueeze", [key_bias, const("axes_1_2", [1, 2], "int64")])

    split_heads = const("split_heads", [0, 0, 3, HEADS, HEAD_DIM], "int64")
    merge_heads = const("merge_heads", [0, 0, HIDDEN], "int64")
    axis0 = const("axis0", [0], "int64")
    for i, layer in enumerate(weights.layers):
        p = f"layer{i}"
        qkv = dense(hidden, layer.qkv_weight, layer.qkv_bias, p + ".qkv")
        qkv = g.node("Reshape", [qkv, split_heads])
        qkv = g.node("Transpose", [qkv], perm=[2, 0, 3, 1, 4])  # 3, batch, heads, tokens, dim
        q, k, v = (
            g.node("Squeeze", [part, axis0])
            for part in g.multi("Split", [qkv], 3, axis=0, num_outputs=3)
        )
        scores = g.node("MatMul", [q, g.node("Transpose", [k], perm=[0, 1, 3, 2])])
        probs = g.node("Softmax", [g.node("Add", [scores, key_bias])], axis=-1)
        context = g.node("Transpose", [g.node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        context = g.node("Reshape", [context, merge_heads])
        attended = dense(context, layer.out_weight, layer.out_bias, p + ".out")
        hidden = layer_norm(
            g.node("Add", [attended, hidden]), layer.attention_norm, p + ".attention_norm"
        )
        up = dense(hidden, layer.up_weight, layer.up_bias, p + ".up")
        # Exact GELU as x * 0.5 * (1 + erf(x / sqrt 2)): onnxruntime fuses this very pattern
        # (with Div, not Mul by 1/sqrt 2) and the bias Add before it into one BiasGelu.
        erf = g.node("Erf", [g.node("Div", [up, const(p + ".sqrt2", np.sqrt(2))])])
        gelu = g.node(
            "Mul",
            [
                g.node("Mul", [up, g.node("Add", [erf, const(p + ".one", 1.0)])]),
                const(p + ".half", 0.5),
            ],
        )
        down = dense(gelu, layer.down_weight, layer.down_bias, p + ".down")
        hidden = layer_norm(g.node("Add", [down, hidden]), layer.output_norm, p + ".output_norm")

    # Mean pooling over real tokens, then L2 normalisation (sentence-transformers' Normalize).
    axis1 = const("axis1", [1], "int64")
    weighted = g.node("Mul", [hidden, g.node("Unsqueeze", [mask, const("axis2", [2], "int64")])])
    summed = g.node("ReduceSum", [weighted, axis1], keepdims=0)
    counts = g.node(
        "Max", [g.node("ReduceSum", [mask, axis1], keepdims=1), const("min_count", 1e-9)]
    )
    pooled = g.node("Div", [summed, counts])
    norms = g.node(
        "Max", [g.node("ReduceL2", [pooled, axis1], keepdims=1), const("min_norm", 1e-12)]
    )
    g.node("Div", [pooled, norms], out=_OUTPUT)
    g.output(_OUTPUT, FLOAT, ["batch", HIDDEN])
    return model_bytes(g, opset=OPSET)


class OnnxMiniLM:
    """Token ids in, unit-length 384-dimensional sentence embeddings out, on onnxruntime.

    Thread-safe: ``InferenceSession.run`` may be called from several threads.
    """

    dim = HIDDEN

    def __init__(self, graph: bytes, *, threads: int = 1) -> None:
        """A session for ``graph`` (from :func:`build_model`) on ``threads`` intra-op threads."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused constants are not news
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Without the arena, memory for a large batch goes back after the run instead of
        # staying reserved (~80 MB after a batch of articles); queries are no slower.
        options.enable_cpu_mem_arena = False
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        # The Python wrapper keeps the model bytes (~90 MB) only to re-create the session for
        # a fallback provider, which CPU-only use never needs (onnxruntime's own comment calls
        # holding them "bad"); dropping them leaves the weights only in onnxruntime.
        if getattr(session, "_model_bytes", None) is not None:
            session._model_bytes = None
        self._session = session

    def embed(self, sequences: Sequence[Sequence[int]]) -> Floats:
        """Embeddings of token-id sequences (each with its ``[CLS]``/``[SEP]``), in order."""
        out = np.empty((len(sequences), HIDDEN), dtype=np.float32)
        for rows, ids, mask in minilm.padded_batches(sequences):
            (vectors,) = self._session.run(
                [_OUTPUT],
                {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)},
            )
            out[rows] = vectors
        return out
