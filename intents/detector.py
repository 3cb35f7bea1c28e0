"""The intent detector: rules, fuzzy matching, a lexical classifier and optional embeddings.

>>> det = IntentDetector.load()
>>> det.detect("any news on JSD-1042?").intent
'ticket_status'
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from intents import artefact
from intents.artefact import MODEL_FILE, Shipped
from intents.calibration import Calibration, HeldOut, Params, fit, held_out, softmax
from intents.classifier import TrainConfig
from intents.examples import BUNDLED_DATA, fingerprint, load_examples
from intents.features import Doc, FeatureConfig
from intents.fuzzy import FuzzyMatcher
from intents.lexical import LexicalModel
from intents.rules import Rule, matching, rule_cases
from intents.semantic import EmbeddingMatcher, encode_examples
from intents.slots import SlotExtractor
from intents.spelling import SpellFixer
from intents.text import TICKET_TOKEN
from intents.types import INTENTS, IT_INTENTS, OUT_OF_SCOPE, Encoder, Prediction, Slots

log = logging.getLogger(__name__)

#: Feature and training settings, chosen by cross-validation on the bundled examples.
FEATURES = FeatureConfig(char_min=3, char_max=4, concept_weight=0.4, min_df=2)
TRAINING = TrainConfig(c=20.0, max_iter=40)

#: Longer messages are cut: the intent of a message is in its first few sentences.
MAX_MESSAGE_CHARS = 1000
#: How many runners-up a prediction lists.
ALTERNATIVES = 3
#: The product a reset intent is about when the message names none.
IMPLIED_PRODUCT = {"reset_password": "password", "unlock_account": "sign-in", "reset_mfa": "mfa"}
#: The lexicon family of general IT words ("software", "service desk"): like a product, it
#: makes a message about IT.
IT_WORD = "it_word"
#: The lexicon family added to a message with no product, no IT word and no ticket reference.
NO_IT_WORD = "no_it_word"


#: What makes a message "about IT" for the out-of-scope gate besides the lexicon (part of
#: the model's fingerprint: a model calibrated with another gate is stale)
IT_GATE = "lexicon; IT in capitals"
#: "IT" in capitals: the department ("get me someone from IT"), where "it" is a pronoun
_IT_TEAM = re.compile(r"(?<![\w'’])IT(?![\w'’])")


def names_the_it_team(text: str) -> bool:
    """Whether ``text`` writes "IT" in capitals in a message that isn't all capitals.

    Lower case, "it" is the pronoun (the lexicon knows "it team", "it support" and the
    like); in capitals it is the department. A message typed in capitals says nothing.

    >>> names_the_it_team("nothing here fixes it, get me someone from IT")
    True
    >>> names_the_it_team("It won't print"), names_the_it_team("IT WON'T PRINT")
    (False, False)
    """
    if not _IT_TEAM.search(text):
        return False
    upper = sum(c.isupper() for c in text)
    return upper * 2 < sum(c.isalpha() for c in text)


@dataclass(frozen=True, slots=True)
class _Evidence:
    doc: Doc
    lexical: npt.NDArray[np.float64]
    fuzzy: npt.NDArray[np.float64]
    rules: list[Rule]
    embedding: npt.NDArray[np.float64] | None


class IntentDetector:
    """Detects the intent of a staff message. Build it with :meth:`load`."""

    def __init__(
        self,
        *,
        examples: Mapping[str, tuple[str, ...]],
        extractor: SlotExtractor,
        shipped: Shipped | None = None,
        encoder: Encoder | None = None,
        is_word: Callable[[str], bool] | None = None,
    ) -> None:
        self._names = tuple(sorted(examples))
        self._index = {name: i for i, name in enumerate(self._names)}
        self._oos = self._index.get(OUT_OF_SCOPE)
        self.examples = dict(examples)
        self.extractor = extractor
        self.lexicon = extractor.lexicon
        # the rules' cases are calibration data too: a model fitted without them is stale
        cases = "\n".join(f"{intent}\t{text}" for intent, text in rule_cases())
        self.fingerprint = fingerprint(self.examples, self.lexicon.source, cases, IT_GATE)
        self._texts = [t for name in self._names for t in examples[name]]
        self._labels = np.array(
            [i for i, name in enumerate(self._names) for _ in examples[name]], dtype=np.int64
        )
        self._normalised = [extractor.normalise(t) for t in self._texts]
        self.spelling = SpellFixer(
            [w for text in self._normalised for w in text.split()] + self.lexicon.words(),
            is_word=is_word,
        )
        self._training_docs: list[Doc] | None = None
        #: Whether the shipped weights and calibration were built from exactly these examples.
        self.shipped_fresh = shipped is not None and shipped.fits(
            self.fingerprint, self._names, FEATURES, TRAINING
        )
        if shipped is not None and shipped.model is not None and self.shipped_fresh:
            self.model = shipped.model
        else:
            self.model = self._train()
        self.calibration = shipped.calibration if shipped is not None else Calibration()
        self._fuzzy = FuzzyMatcher(self._normalised, self._labels, len(self._names))
        self._embeddings: EmbeddingMatcher | None = None
        if encoder is not None:
            vectors = encode_examples(encoder, self._texts)
            self._embeddings = EmbeddingMatcher(encoder, vectors, self._labels, len(self._names))
        self._params = self.calibration.params(encoder is not None)

    @classmethod
    def load(
        cls,
        data_dir: Path | None = None,
        *,
        encoder: Encoder | None = None,
        ticket_prefix: str = "JSD",
        is_word: Callable[[str], bool] | None = None,
    ) -> IntentDetector:
        """Read the examples (``<intent>.txt`` files) in ``data_dir`` and the model built on them.

        ``data_dir`` defaults to the bundled examples. Its ``model.json`` (see
        :mod:`intents.artefact`) gives the trained weights and the calibration; if it is
        missing or was built from other examples, the classifier is trained now (about a
        second) and a warning says to run ``itbot intents build``. ``encoder`` adds
        sentence-embedding similarity; ``ticket_prefix`` is the desk's reference prefix;
        ``is_word`` says a word is in a dictionary, so the spelling fixer leaves it alone.
        """
        folder = data_dir or BUNDLED_DATA
        examples = load_examples(folder)
        model_path = folder / MODEL_FILE
        shipped = None
        if model_path.is_file():
            shipped = artefact.loads(model_path.read_text(encoding="utf-8"))
        detector = cls(
            examples=examples,
            extractor=SlotExtractor(ticket_prefix),
            shipped=shipped,
            encoder=encoder,
            is_word=is_word,
        )
        if not detector.shipped_fresh:
            log.warning(
                "%s in %s was not built from these examples: trained at load instead; "
                "run `itbot intents build` to rebuild it",
                MODEL_FILE,
                folder,
            )
        return detector

    def build(self, folds: int = 5, seed: int = 0) -> str:
        """Calibrate on held-out folds and return the ``model.json`` text for these examples."""
        calibration = fit(self.held_out(folds, seed), self._oos_index(), self.fingerprint)
        model = self.model if self.shipped_fresh else self._train()
        return artefact.dumps(
            fingerprint=self.fingerprint,
            intents=self._names,
            features=FEATURES,
            training=TRAINING,
            calibration=calibration,
            model=model,
        )

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents this detector knows: the built-in ones first, then any added ones."""
        known = tuple(name for name in INTENTS if name in self._index)
        return known + tuple(name for name in self._names if name not in INTENTS)

    @property
    def uses_embeddings(self) -> bool:
        """Whether sentence embeddings take part (an encoder was given)."""
        return self._embeddings is not None

    @property
    def params(self) -> Params:
        """The combination parameters in use (with or without embeddings)."""
        return self._params

    def using(self, params: Params) -> IntentDetector:
        """A copy that combines the evidence with other ``params`` (for experiments)."""
        other = copy.copy(self)
        other._params = params
        return other

    def detect(self, text: str, context: Mapping[str, str] | None = None) -> Prediction:
        """The intent of ``text`` with its slots, calibrated confidence and runners-up.

        ``context`` carries hints from the conversation; ``{"expecting": "ticket_ref"}`` makes a
        bare number ("1042") count as a ticket reference.
        """
        return self._predict(text, context, explain=False)

    def explain(self, text: str, context: Mapping[str, str] | None = None) -> Prediction:
        """Like :meth:`detect`, with more reasons: the words that weighed most, nearest examples."""
        return self._predict(text, context, explain=True)

    def held_out(self, folds: int = 5, seed: int = 0) -> HeldOut:
        """Evidence for every example from models that never saw it, for calibration."""
        vectors = None
        if self._embeddings is not None:
            vectors = encode_examples(self._embeddings.encoder, self._texts)
        docs = self._docs()
        has_it_word = np.array(
            [self._about_it(t, d) for t, d in zip(self._texts, docs, strict=True)], dtype=bool
        )
        gateable = np.array([name in IT_INTENTS for name in self._names], dtype=bool)
        rules = np.array([self._rule_vector(matching(d.text)) for d in docs])
        data = held_out(
            docs,
            self._labels,
            len(self._names),
            rules,
            has_it_word,
            gateable,
            vectors=vectors,
            folds=folds,
            seed=seed,
            features=FEATURES,
            training=TRAINING,
        )
        return self._with_rule_cases(data)

    def _with_rule_cases(self, data: HeldOut) -> HeldOut:
        """``data`` and the rules' own cases (:mod:`intents.rules`), labelled with the rule's
        intent and scored by the models of all the examples (no case is an example)."""
        cases = [(text, self._index[i]) for i, text in rule_cases() if i in self._index]
        if not cases:
            return data
        found = [self._evidence(text, bare_numbers=False) for text, _ in cases]
        embedding: npt.NDArray[np.float64] | None = None
        if data.embedding is not None:
            vectors = [e.embedding for e in found if e.embedding is not None]
            embedding = np.vstack([data.embedding, *vectors])
        return HeldOut(
            labels=np.concatenate([data.labels, [label for _, label in cases]]),
            gateable=data.gateable,
            lexical=np.vstack([data.lexical, [e.lexical for e in found]]),
            fuzzy=np.vstack([data.fuzzy, [e.fuzzy for e in found]]),
            rules=np.vstack([data.rules, [self._rule_vector(e.rules) for e in found]]),
            has_it_word=np.concatenate(
                [
                    data.has_it_word,
                    [self._about_it(t, e.doc) for (t, _), e in zip(cases, found, strict=True)],
                ]
            ),
            embedding=embedding,
            cases=len(cases),
        )

    # -- internals -------------------------------------------------------------------------

    def _oos_index(self) -> int:
        if self._oos is None:  # calibrate the gate against a class that never wins
            return len(self._names)
        return self._oos

    def _docs(self) -> list[Doc]:
        if self._training_docs is None:
            self._training_docs = [self._doc(t) for t in self._texts]
        return self._training_docs

    def _train(self) -> LexicalModel:
        return LexicalModel.train(self._docs(), self._labels, len(self._names), FEATURES, TRAINING)

    def _doc(self, text: str, *, bare_numbers: bool = False) -> Doc:
        normalised = self.spelling.fix(self.extractor.normalise(text, bare_numbers=bare_numbers))
        concepts = self.lexicon.find(normalised)
        if TICKET_TOKEN not in normalised.split() and not any(
            c in self.lexicon.products or c == IT_WORD for c in concepts
        ):
            concepts += (NO_IT_WORD,)
        return Doc(normalised, concepts)

    def _rule_vector(self, fired: list[Rule]) -> npt.NDArray[np.float64]:
        vector = np.zeros(len(self._names))
        for rule in fired:
            if rule.intent in self._index:
                vector[self._index[rule.intent]] = 1.0
        return vector

    @staticmethod
    def _about_it(text: str, doc: Doc) -> bool:
        """Whether the message names IT: a product, an IT word, a ticket, or "IT" itself."""
        return NO_IT_WORD not in doc.concepts or names_the_it_team(text)

    def _evidence(self, text: str, *, bare_numbers: bool) -> _Evidence:
        doc = self._doc(text, bare_numbers=bare_numbers)
        embedding = None
        if self._embeddings is not None:
            embedding = self._embeddings.scores(self._embeddings.encode(text))
        return _Evidence(
            doc, self.model.logits(doc), self._fuzzy.scores(doc.text), matching(doc.text), embedding
        )

    def _predict(
        self, text: str, context: Mapping[str, str] | None, *, explain: bool
    ) -> Prediction:
        text = " ".join(text.split())[:MAX_MESSAGE_CHARS]
        if not any(ch.isalnum() for ch in text):
            return self._fallback()
        expecting = (context or {}).get("expecting")
        ev = self._evidence(text, bare_numbers=expecting == "ticket_ref")
        slots = self.extractor.extract(text, ev.doc.text, context)
        params = self._params
        probs = softmax(
            params.combine(ev.lexical, ev.fuzzy, self._rule_vector(ev.rules), ev.embedding)
        )
        ranked = [int(i) for i in np.argsort(-probs)]
        top = ranked[0]
        named_it = self._names[top] == OUT_OF_SCOPE and names_the_it_team(text)
        if named_it:  # "is anyone in IT around today": about IT, whatever else it says
            top = next((i for i in ranked if self._names[i] in IT_INTENTS), top)
            ranked = [top, *(i for i in ranked if i != top)]
        overruled = next((r for r in ev.rules if r.overrules and r.intent in self._index), None)
        if overruled is not None:  # "that didn't help": what the rule rules out isn't meant
            out = [self._index[name] for name in overruled.overrules if name in self._index]
            if top in out:  # what the model took it for is the rule's intent: its share too
                top = self._index[overruled.intent]
                probs[top] += probs[out].sum()
            probs[out] = 0.0
            probs /= probs.sum()  # else the rest share it
            ranked = [top, *(int(i) for i in np.argsort(-probs) if i != top)]
        gated = (
            self._oos is not None
            and self._names[top] in IT_INTENTS
            and probs[top] < params.oos_threshold
            and not ev.rules
            and not self._about_it(text, ev.doc)
        )
        if gated:
            intent, confidence = OUT_OF_SCOPE, 1.0 - float(probs[top])
            others = [i for i in ranked if self._names[i] != OUT_OF_SCOPE]
        else:
            intent, confidence = self._names[top], float(probs[top])
            others = ranked[1:]
        alternatives = tuple(
            (self._names[i], round(float(probs[i]), 4)) for i in others[:ALTERNATIVES]
        )
        if slots.product is None and intent in IMPLIED_PRODUCT:
            slots = dataclasses.replace(slots, product=IMPLIED_PRODUCT[intent])
        reasons = self._reasons(ev, probs, top, gated, explain=explain)
        if named_it:
            reasons += ("the message names IT (in capitals), so it is not out of scope",)
        if overruled is not None:
            reasons += (
                f"rule {overruled.name!r} rules out {', '.join(sorted(overruled.overrules))}",
            )
        ruled = tuple(r.name for r in ev.rules if r.intent == intent)
        return Prediction(intent, round(confidence, 4), slots, alternatives, reasons, ruled)

    def _fallback(self) -> Prediction:
        intent = OUT_OF_SCOPE if self._oos is not None else self._names[0]
        return Prediction(intent, 0.0, Slots(), (), ("the message has no words to go on",))

    def _reasons(
        self,
        ev: _Evidence,
        probs: npt.NDArray[np.float64],
        top: int,
        gated: bool,
        *,
        explain: bool,
    ) -> tuple[str, ...]:
        name = self._names[top]
        lexical = softmax(ev.lexical)
        reasons = [
            f"lexical classifier: {self._names[int(lexical.argmax())]} ({lexical.max():.0%})"
        ]
        fuzzy_best = int(ev.fuzzy.argmax())
        reasons.append(
            f"closest example by spelling: {self._names[fuzzy_best]} "
            f"({ev.fuzzy[fuzzy_best]:.0%} alike)"
        )
        if ev.embedding is not None:
            best = int(ev.embedding.argmax())
            reasons.append(
                f"closest example by meaning: {self._names[best]} (cosine {ev.embedding[best]:.2f})"
            )
        reasons.extend(f"rule: {rule.reason} -> {rule.intent}" for rule in ev.rules)
        if gated:
            reasons.append(
                f"best guess {name} is only {probs[top]:.0%} likely and the message has no IT "
                f"words, so it is out of scope (threshold {self._params.oos_threshold:.0%})"
            )
        if explain:
            words = self.model.evidence(ev.doc, top)
            if words:
                listed = ", ".join(repr(g.lstrip("#@").strip()) for g, _ in words)
                reasons.append(f"features that weighed most for {name}: {listed}")
            nearest = self._fuzzy.nearest(ev.doc.text, top)
            if nearest is not None:
                reasons.append(f"nearest {name} example: {nearest[0]!r} ({nearest[1]:.0%} alike)")
            if ev.doc.concepts:
                reasons.append(f"lexicon families mentioned: {', '.join(ev.doc.concepts)}")
        if not self.shipped_fresh:
            reasons.append(
                "the shipped model was built from other examples: confidences may be off "
                "(run `itbot intents build`)"
            )
        return tuple(reasons)
