"""Shared pieces of the hostile-input property tests (hypothesis).

Kept fast: a few dozen examples each, no deadline (a turn touches the database), and
hypothesis runs in a worker thread when the app under test lives on the test's event loop.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable, Coroutine
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: a few dozen examples: the suite must stay quick. A longer campaign, now and then:
#: ITBOT_HOSTILE_EXAMPLES=2000 pytest -n 2 -k hostile
FAST = settings(
    max_examples=int(os.environ.get("ITBOT_HOSTILE_EXAMPLES", "30")),
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


#: addresses as they turn up in pasted mail: the councils', an agent's, outsiders', broken
ADDRESSES = st.sampled_from(
    (
        "sam.taylor@dacorum.gov.uk",
        "pat.singh@dacorum.gov.uk",  # an agent: pasting it must grant nothing
        "kim.lee@aylesburyvaledc.gov.uk",
        "someone@example.com",
        "MAILER-DAEMON@mail.example.net",
        "<>",
        "a@b@c",
        "\ud800@dacorum.gov.uk",
    )
)
_HEADER = st.tuples(
    st.sampled_from(
        (
            *("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To"),
            *("References", "Auto-Submitted", "Content-Type", "X-Mailer"),
        )
    ),
    ADDRESSES | ANY_TEXT,
).map(lambda h: f"{h[0]}: {h[1]}")
_LINE = st.one_of(
    _HEADER,
    ANY_TEXT.map(lambda t: "> " + t),  # a quoted reply
    ANY_TEXT.map(lambda t: ">> > " + t),
    ADDRESSES.map(lambda a: f"On Mon, 30 Nov 2026 at 09:14, Sam Taylor <{a}> wrote:"),
    st.just("-- "),  # a signature follows
    st.just("--==_boundary_42\nContent-Type: text/html; charset=utf-8\n"),
    st.just("<html><body><p>My printer&nbsp;is broken</p><img src=x onerror=alert(1)></body>"),
    st.binary(min_size=1, max_size=60).map(lambda b: base64.b64encode(b).decode()),
    st.just("=E2=80=99 quoted-printable soft break=\n"),
    st.just("Password: Winter2026! and the code is 123456"),  # secrets pasted in a mail
    ANY_TEXT,
)
#: text pasted from an email: headers, quoted replies, signatures, MIME parts, HTML
EMAIL_LIKE = st.lists(_LINE, min_size=1, max_size=25).map("\n".join)
