"""From a staff message to an intent, its slots and a calibrated confidence.

Pure: reads only its own data files (``data/<intent>.txt`` examples, ``data/calibration.json``,
``lexicon.yml``); never imports ``bot``, ``knowledge`` or ``integrations``.

>>> from intents import IntentDetector
>>> det = IntentDetector.load()
>>> pred = det.detect("hiya, new phone and the code thing doesnt work anymore")
>>> pred.intent, pred.slots.product
('reset_mfa', 'mfa')
"""

from intents.detector import IntentDetector
from intents.examples import IntentDataError
from intents.types import INTENTS, URGENCY_LEVELS, Encoder, Prediction, Slots

__all__ = [
    "INTENTS",
    "URGENCY_LEVELS",
    "Encoder",
    "IntentDataError",
    "IntentDetector",
    "Prediction",
    "Slots",
]
