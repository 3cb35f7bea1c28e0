"""Read tensors from safetensors bytes with NumPy alone (no safetensors or torch package).

The format is an 8-byte little-endian header length, a JSON header mapping each tensor's
name to its dtype, shape and byte range, then the raw little-endian data. Tensors are
zero-copy, read-only views into the given buffer.

>>> import json, struct
>>> import numpy as np
>>> header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
>>> blob = struct.pack("<Q", len(header)) + header + np.array([1, 2], "<f4").tobytes()
>>> read_safetensors(blob)["w"].tolist()
[1.0, 2.0]
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
}


class SafetensorsError(ValueError):
    """The buffer is not a safetensors file this reader understands."""


def read_safetensors(buffer: bytes) -> dict[str, np.ndarray[Any, np.dtype[Any]]]:
    """Every tensor in ``buffer`` by name, as read-only NumPy views (no copies)."""
    if len(buffer) < 8:
        raise SafetensorsError("file is shorter than its header")
    (header_len,) = struct.unpack_from("<Q", buffer, 0)
    start = 8 + header_len
    if start > len(buffer):
        raise SafetensorsError("header runs past the end of the file")
    try:
        header = json.loads(buffer[8:start])
    except ValueError as exc:
        raise SafetensorsError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    tensors: dict[str, np.ndarray[Any, np.dtype[Any]]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = _DTYPES[info["dtype"]]
            shape = tuple(int(n) for n in info["shape"])
            begin, end = (int(n) for n in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"tensor {name!r} has an unreadable description") from None
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize or start + end > len(buffer) or begin < 0:
            raise SafetensorsError(f"tensor {name!r} has inconsistent byte offsets")
        array = np.frombuffer(buffer, dtype=dtype, count=count, offset=start + begin)
        tensors[name] = array.reshape(shape)
    return tensors
