"""Offline intent classifier: sentence embeddings + a calibrated linear head."""

from app.triage.classifier.model import (
    ClassifierError,
    IntentClassifier,
    Prediction,
    TrainOptions,
)

__all__ = ["ClassifierError", "IntentClassifier", "Prediction", "TrainOptions"]
