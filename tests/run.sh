#!/usr/bin/env bash
# The test command: a virtualenv with the package and its test extras, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
status=0
.venv/bin/python -m pytest "$@" || status=$?
# pytest's "no tests collected" (5) is a failure here too: a run that tests nothing proves nothing.
exit "$status"
