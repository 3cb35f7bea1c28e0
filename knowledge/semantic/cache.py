"""On-disk cache of sentence embeddings, keyed by ``sha256(model id + text)``.

One small file per text (``<folder>/<key[:2]>/<key>.f32``: the vector's little-endian
float32 bytes), written to a temporary file and renamed into place, so several processes
can share the folder: a reader sees a whole vector or none, and two writers of one key
write the same bytes. A file of the wrong size or with non-finite values is a miss and is
overwritten. The cache only saves time: if the folder cannot be written, encoding goes on
without it (and says so once in the log).

>>> import tempfile
>>> import numpy as np
>>> cache = EmbeddingCache(Path(tempfile.mkdtemp()), model_id="demo", dim=2)
>>> cache.put_many(["hello"], np.array([[0.6, 0.8]], dtype=np.float32))
>>> cache.get_many(["hello", "bye"])[0].tolist(), cache.get_many(["bye"])[0], cache.count()
([0.6000000238418579, 0.800000011920929], None, 1)
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

_SUFFIX = ".f32"
_DTYPE = np.dtype("<f4")


class EmbeddingCache:
    """Vectors of one model (``model_id``, ``dim``) under ``folder``."""

    def __init__(self, folder: Path, *, model_id: str, dim: int) -> None:
        self.folder = folder
        self.model_id = model_id
        self.dim = dim
        self._prefix = model_id.encode("utf-8") + b"\0"
        self._warned = False

    def key(self, text: str) -> str:
        """The cache key of ``text``: sha256 of the model id, a NUL, and the text."""
        return hashlib.sha256(self._prefix + text.encode("utf-8", "surrogatepass")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / (key + _SUFFIX)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The texts (each once) with no vector stored: what encoding them would have to run."""
        return [t for t in dict.fromkeys(texts) if not self._path(self.key(t)).is_file()]

    def get_many(self, texts: Sequence[str]) -> list[npt.NDArray[np.float32] | None]:
        """The cached vector of each text, or ``None`` where there is none (or it is damaged)."""
        return [self._read(self._path(self.key(text))) for text in texts]

    def _read(self, path: Path) -> npt.NDArray[np.float32] | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if len(data) != self.dim * _DTYPE.itemsize:
            return None
        vector = np.frombuffer(data, dtype=_DTYPE).astype(np.float32)
        return vector if bool(np.isfinite(vector).all()) else None

    def put_many(self, texts: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        """Store one vector per text, each atomically; failures are logged, not raised."""
        for text, vector in zip(texts, vectors, strict=True):
            try:
                self._write(self._path(self.key(text)), vector)
            except OSError as exc:
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "embedding cache %s is not writable, encoding without it: %s",
                        self.folder,
                        exc,
                    )
                return

    def _write(self, path: Path, vector: npt.NDArray[np.float32]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(np.ascontiguousarray(vector, dtype=_DTYPE).tobytes())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def count(self) -> int:
        """How many vectors are stored (for tests and reports; walks the folder)."""
        return sum(1 for _ in self.folder.glob("??/*" + _SUFFIX))
