"""The MiniLM encoder the quick start installs, for the intents tests that run with it."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def minilm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The knowledge package's MiniLM encoder (skips where it is not installed). The example
    vectors are cached in pytest's cache folder: encoding them takes seconds the first time."""
    try:
        from knowledge.dense import open_encoder
    except ImportError as exc:
        pytest.skip(f"knowledge.dense is not importable: {exc}")
    cache = getattr(request.config, "cache", None)
    folder = (
        cache.mkdir("intents-embeddings") if cache is not None else tmp_path_factory.mktemp("e")
    )
    encoder, status = open_encoder("auto", folder)
    if encoder is None:
        pytest.skip(f"the MiniLM encoder is not installed here ({status})")
    return encoder
