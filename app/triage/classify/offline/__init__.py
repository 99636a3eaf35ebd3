"""Offline intent classifier: calibrated confidence and out-of-scope rejection.

`IntentClassifier.train(texts, labels, embeddings=...)` then `predict`, `save`,
`load`.  `TrainOptions(mode="frozen")` trains in seconds on a taxonomy's examples;
`mode="finetune"` also fine-tunes the local MiniLM for large labelled sets.
"""

from app.triage.classify.offline.dataset import DatasetError, LabelledTexts, read_labelled_csv
from app.triage.classify.offline.metrics import evaluate_predictions, expected_calibration_error
from app.triage.classify.offline.model import IntentClassifier
from app.triage.classify.offline.types import (
    ClassifierError,
    Mode,
    Prediction,
    ProgressCallback,
    TrainOptions,
    TrainProgress,
)

__all__ = [
    "ClassifierError",
    "DatasetError",
    "IntentClassifier",
    "LabelledTexts",
    "Mode",
    "Prediction",
    "ProgressCallback",
    "TrainOptions",
    "TrainProgress",
    "evaluate_predictions",
    "expected_calibration_error",
    "read_labelled_csv",
]
