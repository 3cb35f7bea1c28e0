"""The lexical classifier: TF-IDF features (:mod:`intents.features`) + softmax regression."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from intents.classifier import SoftmaxRegression, TrainConfig
from intents.features import Doc, FeatureConfig, Vectoriser


@dataclass(frozen=True, slots=True)
class LexicalModel:
    """A fitted vectoriser and classifier."""

    vectoriser: Vectoriser
    classifier: SoftmaxRegression

    @classmethod
    def train(
        cls,
        docs: Sequence[Doc],
        labels: npt.NDArray[np.int64],
        n_classes: int,
        features: FeatureConfig | None = None,
        training: TrainConfig | None = None,
    ) -> LexicalModel:
        vectoriser = Vectoriser(features)
        rows = vectoriser.fit(docs)
        classifier = SoftmaxRegression.fit(rows, labels, n_classes, training or TrainConfig())
        return cls(vectoriser, classifier)

    def logits(self, doc: Doc) -> npt.NDArray[np.float64]:
        return self.classifier.logits(*self.vectoriser.transform(doc))

    def logits_many(self, docs: Sequence[Doc]) -> npt.NDArray[np.float64]:
        return self.classifier.logits_many(self.vectoriser.transform_many(docs))

    def evidence(self, doc: Doc, cls: int, top: int = 4) -> list[tuple[str, float]]:
        """The features of ``doc`` that pushed hardest towards class ``cls`` (over the mean)."""
        indices, values = self.vectoriser.transform(doc)
        weights = self.classifier.weights[indices]
        push = values * (weights[:, cls] - weights.mean(axis=1))
        names = {i: g for g, i in self.vectoriser.vocabulary.items()}
        order = np.argsort(-push)
        result: list[tuple[str, float]] = []
        for i in order[:top]:
            if push[i] <= 0 or int(indices[i]) not in names:
                break
            result.append((names[int(indices[i])], float(push[i])))
        return result
