"""The shipped model: trained weights and calibration in ``data/model.json``.

Training at load takes about a second on the bundled examples; reading the shipped weights
takes a few tens of milliseconds, which keeps ``itbot chat`` quick to start. The file records
a fingerprint of the examples it was built from and the settings it was built with; when they
no longer match (someone edited an example), the detector trains at load instead and logs how
to rebuild the file (``itbot intents build``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from intents.calibration import Calibration
from intents.classifier import SoftmaxRegression, TrainConfig
from intents.features import FeatureConfig, Vectoriser
from intents.lexical import LexicalModel

MODEL_FILE = "model.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Shipped:
    """What ``model.json`` holds."""

    fingerprint: str
    intents: tuple[str, ...]
    features: FeatureConfig
    training: TrainConfig
    calibration: Calibration
    model: LexicalModel | None

    def fits(
        self,
        fingerprint: str,
        intents: tuple[str, ...],
        features: FeatureConfig,
        training: TrainConfig,
    ) -> bool:
        """Whether the weights were trained on these examples with these settings."""
        return (
            self.model is not None
            and self.fingerprint == fingerprint
            and self.intents == intents
            and self.features == features
            and self.training == training
        )


def _pack(array: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _unpack(text: str, dtype: type[np.generic], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).reshape(shape)


def dumps(
    *,
    fingerprint: str,
    intents: tuple[str, ...],
    features: FeatureConfig,
    training: TrainConfig,
    calibration: Calibration,
    model: LexicalModel,
) -> str:
    """``model.json`` text. Weights are stored as float16 (logits move by < 0.01)."""
    weights = model.classifier.weights
    raw = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "intents": list(intents),
        "features": asdict(features),
        "training": asdict(training),
        "calibration": json.loads(calibration.to_json()),
        "grams": model.vectoriser.grams,
        "idf": _pack(model.vectoriser.idf.astype(np.float32)),
        "weights": _pack(weights.astype(np.float16)),
        "shape": list(weights.shape),
    }
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False) + "\n"


def loads(text: str) -> Shipped:
    """Read ``model.json``; a file of another format yields its calibration only."""
    raw: dict[str, Any] = json.loads(text)
    calibration = Calibration.from_json(json.dumps(raw["calibration"]))
    features = FeatureConfig(**raw["features"])
    training = TrainConfig(**raw["training"])
    model = None
    if raw.get("format") == FORMAT:
        rows, cols = (int(n) for n in raw["shape"])
        idf = _unpack(raw["idf"], np.float32, (rows,)).copy()
        weights = _unpack(raw["weights"], np.float16, (rows, cols)).astype(np.float32)
        vectoriser = Vectoriser.restore(features, raw["grams"], idf)
        model = LexicalModel(vectoriser, SoftmaxRegression(weights))
    return Shipped(
        fingerprint=str(raw["fingerprint"]),
        intents=tuple(raw["intents"]),
        features=features,
        training=training,
        calibration=calibration,
        model=model,
    )
