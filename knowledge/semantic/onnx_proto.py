"""Just enough of the ONNX protobuf format to write a model, without the ``onnx`` package.

An ONNX model is a protocol-buffers message (``onnx.proto``). Writing one needs only the
wire format: varints, length-delimited fields and fixed32 floats. The field numbers below
are ONNX's, which are frozen for compatibility; the test suite parses the output with the
``onnx`` package when it is installed and runs ``onnx.checker`` on it.

Messages are kept as lists of byte chunks and joined once, so the weights are copied into
the model only once.

>>> graph = Graph("g")
>>> graph.input("x", FLOAT, ["n"])
>>> graph.output(graph.node("Relu", ["x"], out="y"), FLOAT, ["n"])
>>> blob = model_bytes(graph, opset=18)
>>> blob[:2] == bytes([0x08, IR_VERSION])   # field 1 (ir_version), varint
True
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FLOAT = 1  # TensorProto.FLOAT
INT32 = 6  # TensorProto.INT32
INT64 = 7  # TensorProto.INT64

IR_VERSION = 8

_NUMPY_TYPES = {np.dtype("<f4"): FLOAT, np.dtype("<i4"): INT32, np.dtype("<i8"): INT64}

# AttributeProto.AttributeType
_ATTR_FLOAT, _ATTR_INT, _ATTR_STRING, _ATTR_INTS = 1, 2, 3, 7

Attribute = float | int | str | Sequence[int]
_Chunks = list[bytes | memoryview]


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 fields are two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _message(field: int, chunks: _Chunks) -> _Chunks:
    size = sum(len(c) for c in chunks)
    return [_varint(field << 3 | 2) + _varint(size), *chunks]


def _str(field: int, value: str) -> bytes:
    data = value.encode("utf-8")
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _attribute(name: str, value: Attribute) -> _Chunks:
    head = _str(1, name)
    if isinstance(value, bool):
        raise TypeError(f"attribute {name}: use 0 or 1, not a bool")
    if isinstance(value, int):
        return [head, _int(3, value), _int(20, _ATTR_INT)]
    if isinstance(value, float):
        return [head, _varint(2 << 3 | 5), struct.pack("<f", value), _int(20, _ATTR_FLOAT)]
    if isinstance(value, str):
        return [head, _str(4, value), _int(20, _ATTR_STRING)]
    return [head, *(_int(8, int(v)) for v in value), _int(20, _ATTR_INTS)]


def _tensor(name: str, array: npt.NDArray[Any]) -> _Chunks:
    data_type = _NUMPY_TYPES.get(array.dtype)
    if data_type is None:
        raise TypeError(f"constant {name}: unsupported dtype {array.dtype}")
    raw = np.ascontiguousarray(array).data.cast("B")
    dims = [_int(1, d) for d in array.shape]
    return [*dims, _int(2, data_type), _str(8, name), *_message(9, [raw])]


def _value_info(name: str, elem_type: int, shape: Iterable[int | str]) -> _Chunks:
    dims: _Chunks = []
    for d in shape:
        dims += _message(1, [_str(2, d) if isinstance(d, str) else _int(1, d)])
    tensor_type = [_int(1, elem_type), *_message(2, dims)]
    return [_str(1, name), *_message(2, _message(1, tensor_type))]


class Graph:
    """Collects nodes, constants, inputs and outputs of one ONNX graph."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._chunks: dict[int, _Chunks] = {1: [], 5: [], 11: [], 12: []}
        self._count = 0

    def constant(self, name: str, array: npt.NDArray[Any]) -> str:
        """Add a weight or constant tensor (float32, int32 or int64); returns its name."""
        self._chunks[5] += _message(5, _tensor(name, array))
        return name

    def input(self, name: str, elem_type: int, shape: Sequence[int | str]) -> None:
        self._chunks[11] += _message(11, _value_info(name, elem_type, shape))

    def output(self, name: str, elem_type: int, shape: Sequence[int | str]) -> None:
        self._chunks[12] += _message(12, _value_info(name, elem_type, shape))

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        *,
        out: str | None = None,
        domain: str = "",
        **attributes: Attribute,
    ) -> str:
        """Add a one-output node; returns the output's name (``out``, or a fresh one)."""
        self._count += 1
        name = f"{op_type}_{self._count}"
        return self._add(op_type, inputs, [out or name], name, domain, attributes)[0]

    def multi(
        self, op_type: str, inputs: Sequence[str], outputs: int, **attributes: Attribute
    ) -> list[str]:
        """Add a node with several outputs; returns their fresh names."""
        self._count += 1
        name = f"{op_type}_{self._count}"
        names = [f"{name}_{i}" for i in range(outputs)]
        return self._add(op_type, inputs, names, name, "", attributes)

    def _add(
        self,
        op_type: str,
        inputs: Sequence[str],
        outputs: list[str],
        name: str,
        domain: str,
        attributes: dict[str, Attribute],
    ) -> list[str]:
        body: _Chunks = [_str(1, i) for i in inputs]
        body += [_str(2, o) for o in outputs]
        body += [_str(3, name), _str(4, op_type)]
        for key, value in attributes.items():
            body += _message(5, _attribute(key, value))
        if domain:
            body.append(_str(7, domain))
        self._chunks[1] += _message(1, body)
        return outputs

    def chunks(self) -> _Chunks:
        return [
            *self._chunks[1],
            _str(2, self.name),
            *self._chunks[5],
            *self._chunks[11],
            *self._chunks[12],
        ]


def model_bytes(graph: Graph, *, opset: int, producer: str = "itbot") -> bytes:
    """A serialised ``ModelProto`` holding ``graph``, for the default ONNX domain at ``opset``."""
    chunks: _Chunks = [_int(1, IR_VERSION), _str(2, producer)]
    chunks += _message(7, graph.chunks())
    chunks += _message(8, [_int(2, opset)])  # OperatorSetIdProto; domain "" is the default
    return b"".join(chunks)
