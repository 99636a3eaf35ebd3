"""Frozen-embedding intent classifier with calibrated probabilities and OOS rejection.

Probabilities come from a logistic-regression head calibrated on held-out folds
(sigmoid calibration via scikit-learn), so `confidence` means what it says.  A
message is out of scope (label None) when it is labelled as such in training
(`oos_label`) or when its best probability falls below `reject_below`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, Field

FORMAT_VERSION = 1


class ClassifierError(RuntimeError):
    """The model file is missing, corrupt or was built for other embeddings."""


class Prediction(BaseModel):
    label: str | None
    confidence: float
    scores: dict[str, float] = Field(default_factory=dict)


class TrainOptions(BaseModel):
    mode: Literal["frozen"] = "frozen"
    c: float = 10.0
    reject_below: float = 0.0
    oos_label: str | None = "oos"
    top_scores: int = 3
    max_iter: int = 3000


class IntentClassifier:
    def __init__(
        self, head: Any, labels: list[str], options: TrainOptions, embeddings: Embeddings
    ) -> None:
        self._head = head
        self.labels = labels
        self.options = options
        self._embeddings = embeddings

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        embeddings: Embeddings,
        options: TrainOptions | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> IntentClassifier:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        options = options or TrainOptions()
        if len(texts) != len(labels) or not texts:
            raise ClassifierError("training needs the same, non-zero number of texts and labels")
        counts = Counter(labels)
        if len(counts) < 2:
            raise ClassifierError("training needs at least two labels")
        if progress:
            progress(f"embedding {len(texts)} texts")
        x = np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float32)
        y = np.asarray(labels)
        base = LogisticRegression(C=options.c, max_iter=options.max_iter)
        folds = min(3, min(counts.values()))
        head: Any
        if folds >= 2:
            head = CalibratedClassifierCV(base, method="sigmoid", cv=folds)
        else:  # a label with one example cannot be calibrated on a held-out fold
            head = base
        if progress:
            progress("fitting the head")
        head.fit(x, y)
        return cls(head, [str(c) for c in head.classes_], options, embeddings)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        x = np.asarray(self._embeddings.embed_documents(list(texts)), dtype=np.float32)
        probabilities = self._head.predict_proba(x)
        out: list[Prediction] = []
        for row in probabilities:
            order = np.argsort(row)[::-1]
            best = int(order[0])
            label: str | None = self.labels[best]
            confidence = float(row[best])
            if label == self.options.oos_label or confidence < self.options.reject_below:
                label = None
            scores = {
                self.labels[int(i)]: round(float(row[int(i)]), 4)
                for i in order[: self.options.top_scores]
            }
            out.append(Prediction(label=label, confidence=round(confidence, 4), scores=scores))
        return out

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        payload = {
            "format": FORMAT_VERSION,
            "head": self._head,
            "labels": self.labels,
            "options": self.options.model_dump(),
        }
        joblib.dump(payload, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, *, embeddings: Embeddings) -> IntentClassifier:
        if not path.is_file():
            raise ClassifierError(
                f"no classifier at {path}: train one with `triage classifier train`"
            )
        try:
            payload = joblib.load(path)
        except Exception as exc:
            raise ClassifierError(f"{path} is not a readable classifier: {exc}") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
            raise ClassifierError(f"{path} was written by an incompatible version")
        return cls(
            payload["head"],
            list(payload["labels"]),
            TrainOptions.model_validate(payload["options"]),
            embeddings,
        )
