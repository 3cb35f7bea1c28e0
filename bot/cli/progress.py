"""What ``itbot serve`` shows while it gets ready: a bar on a terminal, a few log lines elsewhere.

A first start encodes every article for semantic search (a minute or so for the bundled
ones on a small machine); later starts read the vectors from the cache and show nothing.

>>> import io
>>> out = io.StringIO()
>>> bar = StartupProgress(out, terminal=True, width=10)
>>> bar(64, 128); bar(128, 128)
>>> out.getvalue().splitlines()[-1].endswith("[##########] 128/128 texts")
True
"""

from __future__ import annotations

import logging
import threading
from typing import TextIO

log = logging.getLogger(__name__)

LABEL = "itbot: encoding the articles for semantic search (first start only)"


class StartupProgress:
    """A :data:`knowledge.Progress`: called from the loading thread with (done, total)."""

    def __init__(self, stream: TextIO, *, terminal: bool | None = None, width: int = 30) -> None:
        self._stream = stream
        self._terminal = stream.isatty() if terminal is None else terminal
        self._width = width
        self._logged = -1
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        with self._lock:
            if self._terminal:
                filled = self._width * done // total
                bar = "#" * filled + "." * (self._width - filled)
                end = "\n" if done >= total else ""
                self._stream.write(f"\r{LABEL} [{bar}] {done}/{total} texts{end}")
                self._stream.flush()
                return
            quarter = 4 * done // total  # a log line at each quarter, not a bar in a log file
            if quarter > self._logged:
                self._logged = quarter
                log.info("encoding the articles for semantic search: %d/%d texts", done, total)
