"""Fixtures for the directory adapters: a real slapd, and fake Graph and Google servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need
from tests.identity import slapd as slapd_server


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[slapd_server.Slapd]:
    """A real slapd with ppolicy, the test people and an administrators' group; stopped
    afterwards."""
    reason = slapd_server.missing()
    need(reason is None, reason or "")
    server = slapd_server.start(tmp_path / "slapd")
    yield server
    server.stop()
