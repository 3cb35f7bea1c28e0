"""``itbot serve`` replicas as subprocesses on one database, for the replica and fault tests.

Each :class:`Replica` is a real ``python -m bot serve`` on its own port with its own log
file; the test talks to it over HTTP and stops it with SIGTERM or SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.conftest import free_port

#: how long a replica may take to answer /readyz on a loaded machine
START_WITHIN = 120.0


@dataclass
class Replica:
    """One ``itbot serve`` process."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    async def ready(self, within: float = START_WITHIN) -> None:
        """Wait until ``/readyz`` answers 200 (failing with the log if the process died)."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.process is not None and self.process.poll() is None, self.log()
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return
                assert time.monotonic() < deadline, f"{self.name} not ready:\n{self.log()}"
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when a machine or container is lost."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_env(database_url: str, cache_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a replica: the shared database, lexical search (starts in seconds;
    the replicas' behaviour does not depend on embeddings), anything ``extra``."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("ITBOT_", "SLACK_"))
    }
    env |= {
        "ITBOT_DATABASE_URL": database_url,
        "ITBOT_CACHE_DIR": str(cache_dir),
        "ITBOT_SEMANTIC": "off",
        "ITBOT_SECRET_KEY": "replica-test-secret-key-0123456789",
    }
    return env | dict(extra)


def replicas(names: list[str], env: Mapping[str, str], workdir: Path) -> list[Replica]:
    return [Replica(name, dict(env), workdir) for name in names]


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60.0) -> None:
    """Poll ``check()`` until it is true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.1)
