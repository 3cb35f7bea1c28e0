"""Errors raised by the semantic encoder: one root, messages that say what to do next."""

from __future__ import annotations


class SemanticUnavailable(Exception):
    """The sentence-embedding model cannot be used; the message says what to install or fix."""


class NotInstalled(SemanticUnavailable):
    """The model package or onnxruntime is not installed; the message gives the pip line."""


class ModelIntegrityError(SemanticUnavailable):
    """A model file's SHA-256 differs from the pinned value, so the model is refused.

    ``path`` is the offending file, ``expected`` and ``actual`` the hex digests
    (``actual`` is ``"missing"`` when the file does not exist).
    """

    def __init__(self, message: str, *, path: str, expected: str, actual: str) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual
