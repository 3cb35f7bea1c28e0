"""The hand-written ONNX protobuf: valid for the onnx package, runnable on onnxruntime."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from knowledge.semantic import messages
from knowledge.semantic.minilm import Weights
from knowledge.semantic.model_files import find_model_dir, load_model_files
from knowledge.semantic.onnx_model import build_model
from knowledge.semantic.onnx_proto import FLOAT, INT64, Graph, _varint, model_bytes
from knowledge.semantic.weights import SafetensorsError, read_safetensors
from tests.conftest import need


def tiny_model() -> bytes:
    g = Graph("tiny")
    g.input("x", FLOAT, ["n", 2])
    g.input("ids", INT64, ["n"])
    weight = g.constant("w", np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    table = g.constant("table", np.array([[10.0, 20.0], [30.0, 40.0]], np.float32))
    product = g.node("MatMul", ["x", weight])
    looked_up = g.node("Gather", [table, "ids"], axis=0)
    total = g.node("Add", [product, looked_up])
    g.node("Softmax", [total], out="y", axis=-1)
    g.output("y", FLOAT, ["n", 2])
    return model_bytes(g, opset=18)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02")],
)
def test_varints(value, encoded):
    assert _varint(value) == encoded


def test_negative_int64_is_ten_bytes():
    assert _varint(-1) == b"\xff" * 9 + b"\x01"


def test_the_onnx_package_reads_and_checks_it():
    onnx = pytest.importorskip("onnx", reason="the onnx package is not installed")
    model = onnx.load_from_string(tiny_model())
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node] == ["MatMul", "Gather", "Add", "Softmax"]
    assert model.opset_import[0].version == 18
    assert onnx.numpy_helper.to_array(model.graph.initializer[0]).tolist() == [[1, 2], [3, 4]]


def test_onnxruntime_runs_it():
    need(importlib.util.find_spec("onnxruntime") is not None, "onnxruntime is not installed")
    import onnxruntime

    session = onnxruntime.InferenceSession(tiny_model(), providers=["CPUExecutionProvider"])
    x = np.array([[1.0, 0.0], [0.0, -1.0]], np.float32)
    (y,) = session.run(None, {"x": x, "ids": np.array([1, 0], np.int64)})
    logits = x @ np.array([[1, 2], [3, 4]]) + np.array([[30, 40], [10, 20]])
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_the_minilm_graph_passes_the_onnx_checker():
    need(find_model_dir() is not None, f"the model is not installed ({messages.INSTALL_MODEL})")
    onnx = pytest.importorskip("onnx", reason="the onnx package is not installed")
    weights = Weights.from_tensors(read_safetensors(load_model_files().weights))
    model = onnx.load_from_string(build_model(weights))
    onnx.checker.check_model(model)
    assert len(model.graph.initializer) > 6 * 10


def test_a_truncated_weights_file_is_reported():
    with pytest.raises(SafetensorsError):
        read_safetensors(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    header = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
    with pytest.raises(SafetensorsError, match="offsets"):
        read_safetensors(len(header).to_bytes(8, "little") + header + b"\x00" * 8)
