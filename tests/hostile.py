"""Shared pieces of the hostile-input property tests (hypothesis).

Kept fast: a few dozen examples each, no deadline (a turn touches the database), and
hypothesis runs in a worker thread when the app under test lives on the test's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: a few dozen examples: the suite must stay quick
FAST = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: any text, lone surrogates, NULs and control characters included
HOSTILE = ("\ud800", "\udfff", "\x00", "\u202e", "<script>", "&", '"', "\\", "{{", "---\n", "\n")
ANY_TEXT = st.lists(
    st.sampled_from(HOSTILE) | st.characters(exclude_categories=()) | st.text(max_size=8),
    max_size=40,
).map("".join)

#: any JSON value, nested a little
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


async def in_thread(check: Callable[[], None]) -> None:
    """Run a hypothesis test ``check`` in a thread, so it can drive this loop's app."""
    await asyncio.to_thread(check)


def runner(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """``run(coro)``: from hypothesis's thread, run ``coro`` on the test's loop and wait."""

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=120)

    return run
