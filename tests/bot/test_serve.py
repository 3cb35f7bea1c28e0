"""``itbot serve`` as a newcomer starts it: it gives the address only once it answers there.

A first start (an empty embedding cache) encodes every bundled article before it is
ready; the address is printed after that, when the port listens, and a non-terminal
gets a few progress lines in the log instead of a bar.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port


def test_the_address_is_printed_once_the_bot_answers_there(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
        "ITBOT_CACHE_DIR": str(tmp_path / "fresh-cache"),  # a first start
        "ITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}",
    }
    stderr = (tmp_path / "serve.err").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        line = ""
        while "web chat on" not in line:
            line = process.stdout.readline()
            assert line or process.poll() is None, (tmp_path / "serve.err").read_text()
            assert time.monotonic() < deadline, "no address after four minutes"
        assert f"http://127.0.0.1:{port}/" in line
        # the moment it says so, the chat answers and reports ready
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as ready:
            assert ready.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
            assert page.status == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
        stderr.close()
        if process.stdout is not None:
            process.stdout.close()
    log = (tmp_path / "serve.err").read_text()
    if "semantic search: on" in log:  # the embeddings are installed, as the quick start does
        assert "encoding the articles for semantic search" in log
        # the intent detector reads messages with the same encoder (a first start encodes
        # its examples once, into the same cache)
        assert "intents: sentence embeddings on" in log
