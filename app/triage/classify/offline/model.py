"""The trainable intent classifier: calibrated probabilities and out-of-scope rejection.

Two modes (`TrainOptions.mode`):

* ``frozen``: sentence vectors + TF-IDF n-grams into a linear SVM; the vectors are
  the caller's embeddings, or all-mpnet-base-v2 with `features="mpnet"` (finetune
  mode's default: it is chosen for accuracy, and those vectors add to it).  Held-out
  scores come from stratified cross-validation, so every row is used both to
  calibrate and, in the final refit, to train.  Seconds on a taxonomy's examples.
* ``finetune``: the same linear model plus `TrainOptions.encoders` copies of the
  local MiniLM, each fine-tuned from its own seed with a softmax head, averaged as
  calibrated log-probabilities.  A fine-tuned encoder has seen its own training
  rows, so the first encoder and a linear model train on all but a stratified
  held-out split, which calibrates the ensemble.  Then the linear model is refitted
  on every row and encoders 2.. train on every row; they take the calibration
  measured on the first encoder (calibrate, then refit), which stands in for
  them: the shipped ensemble's confidence is close to, not exactly, what was
  calibrated.  The first encoder stays in the ensemble.  Minutes on thousands of
  rows, per encoder.

Calibration is temperature scaling on held-out rows; the out-of-scope threshold
is chosen on the same rows (see `calibration.choose_threshold`).  A training label
equal to `oos_label` is learnt as a class and predicted as `label=None`.

Given a separate labelled calibration set (`train(..., calibration=...)`, e.g. a
sample of real traffic), both modes train on every row and calibrate on that set
instead.  Rows held out of the training data are paraphrases written alongside the
rest and are easier than live messages: on CLINC150 a threshold that costs one point
of accuracy on them costs about two on the validation split.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from app.triage.classify.offline import calibration as cal
from app.triage.classify.offline import training
from app.triage.classify.offline.finetune import FineTunedEncoder
from app.triage.classify.offline.linear import LinearTextModel
from app.triage.classify.offline.storage import read_payload, write_payload
from app.triage.classify.offline.types import (
    ClassifierError,
    Prediction,
    ProgressCallback,
    TrainOptions,
)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _embedding_name(embeddings: Embeddings) -> str:
    return str(getattr(embeddings, "model_name", type(embeddings).__name__))


def _log_softmax(logits: FloatArray, temperature: float) -> FloatArray:
    return np.log(np.clip(cal.softmax(logits, temperature), 1e-300, None))


class IntentClassifier:
    """Use `train` or `load`; the constructor takes already-fitted parts."""

    def __init__(
        self,
        *,
        labels: list[str],
        options: TrainOptions,
        linear: LinearTextModel,
        encoders: list[FineTunedEncoder],
        temperatures: list[float],
        temperature: float,
        threshold: float,
        embeddings: Embeddings,
        embedding_dim: int,
        info: dict[str, Any],
    ) -> None:
        self.labels = labels
        self.options = options
        self._linear = linear
        self._encoders = encoders
        self.temperatures = temperatures
        self.temperature = temperature
        self.threshold = threshold
        self._embeddings = embeddings
        self._embedding_dim = embedding_dim
        self.info = info
        oos = options.oos_label
        self.oos_index = labels.index(oos) if oos is not None and oos in labels else None

    # -- training -----------------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        embeddings: Embeddings,
        options: TrainOptions | None = None,
        progress: ProgressCallback | None = None,
        calibration: tuple[Sequence[str], Sequence[str]] | None = None,
    ) -> IntentClassifier:
        options = options or TrainOptions()
        started = time.perf_counter()
        if len(texts) != len(labels):
            raise ClassifierError(f"{len(texts)} texts but {len(labels)} labels")
        counts = Counter(labels)
        if len(counts) < 2:
            raise ClassifierError("training needs examples of at least two labels")
        names = sorted(counts)
        index = {name: i for i, name in enumerate(names)}
        y = np.asarray([index[label] for label in labels], dtype=np.int64)
        texts = [str(t) for t in texts]

        # Checked before the training rows are embedded, which takes minutes on big sets.
        checked = training.calibration_rows(calibration, index) if calibration is not None else None
        if checked is None and options.mode == "finetune":
            training.finetune_split(y, len(names), options)
        embeddings = _feature_embeddings(options, embeddings)
        training.report(progress, "embedding", 0, len(texts))
        rows = training.Rows(texts, _embed(embeddings, texts), y, len(names))
        training.report(progress, "embedding", len(texts), len(texts))
        if checked is not None:
            cal_texts, held_y = checked
            linear, encoders = training.train_all(rows, options, progress)
            training.report(progress, "calibrating on the calibration set", 0, 1)
            scores_list = training.part_scores(
                linear, encoders, cal_texts, _embed(embeddings, cal_texts)
            )
        elif options.mode == "frozen":
            linear, encoders, scores_list, held_y = training.train_frozen(rows, options, progress)
        else:
            linear, encoders, scores_list, held_y = training.train_finetune(rows, options, progress)

        temperatures = [cal.fit_temperature(z, held_y) for z in scores_list]
        combined = _combine(scores_list, temperatures)
        temperature = cal.fit_temperature(combined, held_y) if len(scores_list) > 1 else 1.0
        probabilities = cal.softmax(combined, temperature)
        oos_index = index.get(options.oos_label) if options.oos_label else None
        threshold = options.min_confidence
        if threshold is None:
            threshold = cal.choose_threshold(
                probabilities,
                held_y,
                oos_index=oos_index,
                max_in_scope_loss=options.max_in_scope_loss,
                min_accuracy=options.min_accepted_accuracy,
            )
        info = {
            "mode": options.mode,
            "n": len(texts),
            "labels": len(names),
            "encoders": len(encoders),
            "calibrated_on": "calibration set" if calibration is not None else "held-out rows",
            "heldout_rows": len(held_y),
            "heldout_accuracy": round(float((combined.argmax(1) == held_y).mean()), 4)
            if len(held_y)
            else None,
            "embedding_model": _embedding_name(embeddings),
            "seconds": round(time.perf_counter() - started, 1),
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        return cls(
            labels=names,
            options=options,
            linear=linear,
            encoders=encoders,
            temperatures=temperatures,
            temperature=temperature,
            threshold=float(threshold),
            embeddings=embeddings,
            embedding_dim=int(rows.vectors.shape[1]),
            info=info,
        )

    # -- prediction ---------------------------------------------------------------
    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        """Calibrated probabilities, one column per entry of `labels`."""
        rows = [str(t) for t in texts]
        vectors = _embed(self._embeddings, rows)
        if vectors.shape[1] != self._embedding_dim:
            raise ClassifierError(
                f"the embeddings give {vectors.shape[1]}-dimensional vectors but the classifier "
                f"was trained on {self._embedding_dim}: retrain it with the current embeddings"
            )
        scores = training.part_scores(self._linear, self._encoders, rows, vectors)
        return cal.softmax(_combine(scores, self.temperatures), self.temperature)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        p = self.probabilities(texts)
        decided = cal.decide(p, oos_index=self.oos_index, threshold=self.threshold)
        top = min(self.options.top_scores, len(self.labels))
        out: list[Prediction] = []
        for row, idx, conf in zip(p, decided.index, decided.confidence, strict=True):
            order = np.argsort(-row, kind="stable")[:top]
            out.append(
                Prediction(
                    label=self.labels[int(idx)] if idx >= 0 else None,
                    confidence=round(float(conf), 4),
                    scores={self.labels[int(i)]: round(float(row[int(i)]), 4) for i in order},
                )
            )
        return out

    # -- persistence --------------------------------------------------------------
    def save(self, path: Path) -> None:
        write_payload(
            path,
            {
                "labels": self.labels,
                "options": self.options.model_dump(),
                "linear": self._linear,
                "encoders": [encoder.trained_state() for encoder in self._encoders],
                "temperatures": self.temperatures,
                "temperature": self.temperature,
                "threshold": self.threshold,
                "embedding_dim": self._embedding_dim,
                "info": self.info,
            },
        )

    @classmethod
    def load(cls, path: Path, *, embeddings: Embeddings) -> IntentClassifier:
        doc = read_payload(path)
        try:
            doc = _upgraded(doc)
            options = TrainOptions.model_validate(doc["options"])
            info = dict(doc["info"])
            if not isinstance(doc["linear"], LinearTextModel):
                raise TypeError("the linear model part has the wrong type")
            temperatures = [float(t) for t in doc["temperatures"]]
            parts = 1 + len(doc["encoders"])
            if len(temperatures) != parts:
                raise ValueError(f"{len(temperatures)} temperatures for {parts} ensemble parts")
            # The models are built last: the file is checked before anything slow runs.
            embeddings = _feature_embeddings(options, embeddings)
            trained_with, given = info.get("embedding_model"), _embedding_name(embeddings)
            if trained_with != given:
                raise ClassifierError(
                    f"{path} was trained on {trained_with!r} embeddings, not {given!r}: "
                    "retrain it or configure the same embedding model"
                )
            encoders = [
                FineTunedEncoder.from_state(
                    state, max_seq_length=options.max_seq_length, threads=options.threads
                )
                for state in doc["encoders"]
            ]
            return cls(
                labels=[str(label) for label in doc["labels"]],
                options=options,
                linear=doc["linear"],
                encoders=encoders,
                temperatures=temperatures,
                temperature=float(doc["temperature"]),
                threshold=float(doc["threshold"]),
                embeddings=embeddings,
                embedding_dim=int(doc["embedding_dim"]),
                info=info,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ClassifierError(f"{path} is an incomplete classifier file: {exc!r}") from exc


def _feature_embeddings(options: TrainOptions, given: Embeddings) -> Embeddings:
    """What the linear model's sentence vectors come from (`TrainOptions.features`)."""
    if options.features == "embeddings":
        return given
    from ingest.embeddings import EmbeddingModelError
    from ingest.mpnet_embeddings import LocalMPNetEmbeddings

    try:
        return LocalMPNetEmbeddings(threads=options.threads)
    except EmbeddingModelError as exc:
        raise ClassifierError(f"the linear model needs all-mpnet-base-v2 vectors: {exc}") from exc


def _upgraded(doc: dict[str, Any]) -> dict[str, Any]:
    """The saved document in the current format.

    Format 3, before encoder ensembles, held one encoder (or None) under "encoder",
    and its options and info had no encoder count.  Formats 3 and 4 had no `features`
    option: their linear model always used the caller's embeddings, which an unset
    value would no longer mean in finetune mode.
    """
    if doc["version"] >= 5:
        return doc
    doc = {**doc, "options": {**doc["options"], "features": "embeddings"}}
    if doc["version"] != 3:
        return doc
    encoders = [] if doc["encoder"] is None else [doc["encoder"]]
    return {
        **doc,
        "encoders": encoders,
        "options": {**doc["options"], "encoders": max(1, len(encoders))},
        "info": {**doc["info"], "encoders": len(encoders)},
    }


def _embed(embeddings: Embeddings, texts: list[str]) -> FloatArray:
    vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(texts):
        raise ClassifierError(f"the embeddings returned an array of shape {vectors.shape}")
    return vectors


def _combine(scores: list[FloatArray], temperatures: list[float]) -> FloatArray:
    """Average of calibrated log-probabilities: a geometric-mean ensemble."""
    parts = [_log_softmax(z, t) for z, t in zip(scores, temperatures, strict=True)]
    out: FloatArray = np.mean(parts, axis=0)
    return out
