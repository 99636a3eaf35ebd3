"""The trainable intent classifier: calibrated probabilities and out-of-scope rejection.

Two modes (`TrainOptions.mode`):

* ``frozen``: the caller's embeddings + TF-IDF n-grams into a linear SVM.  Held-out
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

from app.triage.classifier import calibration as cal
from app.triage.classifier.finetune import FineTunedEncoder
from app.triage.classifier.linear import LinearTextModel
from app.triage.classifier.storage import read_payload, write_payload
from app.triage.classifier.types import (
    ClassifierError,
    Prediction,
    ProgressCallback,
    TrainOptions,
    TrainProgress,
)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
# Below this a temperature fit swings to its bounds on one or two confident mistakes
# (a one-row set did), and the threshold rule has nothing to trade.
MIN_CALIBRATION_ROWS = 30


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
        rows = [str(t) for t in texts]

        def report(stage: str, done: int = 0, total: int | None = None) -> None:
            if progress is not None:
                progress(TrainProgress(stage, done, total))

        # Checked before the training rows are embedded, which takes minutes on big sets.
        checked = _calibration_rows(calibration, index) if calibration is not None else None
        report("embedding", 0, len(rows))
        vectors = _embed(embeddings, rows)
        report("embedding", len(rows), len(rows))
        if checked is not None:
            cal_rows, held_y = checked
            linear, encoders = _train_all(rows, vectors, y, len(names), options, progress, report)
            report("calibrating on the calibration set", 0, 1)
            scores_list = _scores(linear, encoders, cal_rows, _embed(embeddings, cal_rows))
        elif options.mode == "frozen":
            linear, encoders, scores_list, held_y = _train_frozen(rows, vectors, y, options, report)
        else:
            fitted = _train_finetune(rows, vectors, y, len(names), options, progress, report)
            linear, encoders, scores_list, held_y = fitted

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
            "n": len(rows),
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
            embedding_dim=int(vectors.shape[1]),
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
        scores = _scores(self._linear, self._encoders, rows, vectors)
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
            options = TrainOptions.model_validate(doc["options"])
            info = dict(doc["info"])
            trained_with, given = info.get("embedding_model"), _embedding_name(embeddings)
            if trained_with != given:
                raise ClassifierError(
                    f"{path} was trained on {trained_with!r} embeddings, not {given!r}: "
                    "retrain it or configure the same embedding model"
                )
            if not isinstance(doc["linear"], LinearTextModel):
                raise TypeError("the linear model part has the wrong type")
            encoders = [
                FineTunedEncoder.from_state(
                    state, max_seq_length=options.max_seq_length, threads=options.threads
                )
                for state in _encoder_states(doc)
            ]
            temperatures = [float(t) for t in doc["temperatures"]]
            if len(temperatures) != 1 + len(encoders):
                raise ValueError(
                    f"{len(temperatures)} temperatures for {1 + len(encoders)} ensemble parts"
                )
            if doc["version"] == 3:  # before ensembles: options and info lack the count
                options = options.model_copy(update={"encoders": max(1, len(encoders))})
                info.setdefault("encoders", len(encoders))
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


# -- training helpers ---------------------------------------------------------------
Fitted = tuple[LinearTextModel, list[FineTunedEncoder], list[FloatArray], np.ndarray[Any, Any]]


def _encoder_states(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The saved encoders; format 3, before ensembles, holds one or None under "encoder"."""
    if doc["version"] == 3:
        legacy = doc["encoder"]
        return [] if legacy is None else [legacy]
    return list(doc["encoders"])


def _embed(embeddings: Embeddings, texts: list[str]) -> FloatArray:
    vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(texts):
        raise ClassifierError(f"the embeddings returned an array of shape {vectors.shape}")
    return vectors


def _scores(
    linear: LinearTextModel,
    encoders: list[FineTunedEncoder],
    texts: list[str],
    vectors: FloatArray,
) -> list[FloatArray]:
    """Each part's raw scores for the rows, linear first, as `_combine` takes them."""
    return [linear.decision(texts, vectors), *(encoder.logits(texts) for encoder in encoders)]


def _combine(scores: list[FloatArray], temperatures: list[float]) -> FloatArray:
    """Average of calibrated log-probabilities: a geometric-mean ensemble."""
    parts = [_log_softmax(z, t) for z, t in zip(scores, temperatures, strict=True)]
    out: FloatArray = np.mean(parts, axis=0)
    return out


def _new_linear(options: TrainOptions) -> LinearTextModel:
    return LinearTextModel(
        c=options.svm_c, embedding_weight=options.embedding_weight, seed=options.seed
    )


def _train_frozen(
    texts: list[str],
    vectors: FloatArray,
    y: np.ndarray[Any, Any],
    options: TrainOptions,
    report: Any,
) -> Fitted:
    n_classes = int(y.max()) + 1
    folds = _fold_ids(y, options.cv_folds, options.seed)
    held = np.flatnonzero(folds >= 0)
    scores = np.zeros((len(y), n_classes))
    for k in range(options.cv_folds):
        out = np.flatnonzero(folds == k)
        if not len(out):
            continue
        report("calibrating (cross-validation)", k, options.cv_folds)
        keep = np.flatnonzero(folds != k)
        model = _new_linear(options)
        model.fit([texts[i] for i in keep], vectors[keep], y[keep])
        scores[out] = model.decision([texts[i] for i in out], vectors[out])
    report("fitting the linear model", 0, 1)
    linear = _new_linear(options)
    linear.fit(texts, vectors, y)
    return linear, [], [scores[held]], y[held]


def _fold_ids(y: np.ndarray[Any, Any], folds: int, seed: int) -> np.ndarray[Any, Any]:
    """Stratified fold per row; -1 (never held out) for a label's only example.

    Unlike StratifiedKFold this accepts labels rarer than the fold count: each
    label's rows go to distinct folds, so every fold's training part keeps at
    least one example of every label and the SVM always knows every class.
    """
    rng = np.random.default_rng(seed)
    ids = np.full(len(y), -1, dtype=np.int64)
    offset = 0
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        if len(rows) < 2:
            continue
        ids[rows] = (offset + np.arange(len(rows))) % folds
        offset += len(rows)  # rotate so small labels do not all pile into fold 0
    return ids


def _holdout_split(
    y: np.ndarray[Any, Any], fraction: float, seed: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Stratified split; labels with fewer than 2 rows stay wholly in the training part."""
    rng = np.random.default_rng(seed)
    fit: list[int] = []
    held: list[int] = []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        if len(rows) < 2:
            fit.extend(rows.tolist())
            continue
        take = min(max(round(len(rows) * fraction), 1), len(rows) - 1)
        held.extend(rows[:take].tolist())
        fit.extend(rows[take:].tolist())
    return np.asarray(sorted(fit)), np.asarray(sorted(held))


def _calibration_rows(
    calibration: tuple[Sequence[str], Sequence[str]], index: dict[str, int]
) -> tuple[list[str], np.ndarray[Any, Any]]:
    texts, labels = calibration
    if len(texts) == 0:
        raise ClassifierError("the calibration set is empty")
    if len(texts) != len(labels):
        raise ClassifierError(
            f"the calibration set has {len(texts)} texts but {len(labels)} labels"
        )
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ClassifierError(
            f"the calibration set has labels the training data lacks: {', '.join(unknown[:5])}"
        )
    if len(texts) < MIN_CALIBRATION_ROWS:
        raise ClassifierError(
            f"the calibration set has {len(texts)} rows; at least {MIN_CALIBRATION_ROWS} are "
            "needed to fit a temperature and a threshold (without one, training calibrates "
            "on rows held out of the training data)"
        )
    return [str(t) for t in texts], np.asarray([index[label] for label in labels], np.int64)


def _train_all(
    texts: list[str],
    vectors: FloatArray,
    y: np.ndarray[Any, Any],
    n_classes: int,
    options: TrainOptions,
    progress: ProgressCallback | None,
    report: Any,
    *,
    members: range | None = None,
) -> tuple[LinearTextModel, list[FineTunedEncoder]]:
    """The linear model and, in finetune mode, encoders `members` (default all), on every
    given row."""
    report("fitting the linear model", 0, 1)
    linear = _new_linear(options)
    linear.fit(texts, vectors, y)
    if options.mode == "frozen":
        return linear, []
    encoders = []
    for member in range(options.encoders) if members is None else members:
        encoder = FineTunedEncoder(
            n_classes, max_seq_length=options.max_seq_length, threads=options.threads
        )
        # Seeds differ per member: the ensemble gains from their disagreement.
        seeded = options.model_copy(update={"seed": options.seed + member})
        encoder.fit(texts, y, seeded, progress, member=(member, options.encoders))
        encoders.append(encoder)
    return linear, encoders


def _train_finetune(
    texts: list[str],
    vectors: FloatArray,
    y: np.ndarray[Any, Any],
    n_classes: int,
    options: TrainOptions,
    progress: ProgressCallback | None,
    report: Any,
) -> Fitted:
    """Calibrate on a held-out split with the first encoder, then refit on every row.

    The returned held-out scores repeat the first encoder's for each member trained
    on every row, so the temperatures and the threshold fitted on them weigh the
    parts as the final ensemble does.
    """
    fit, held = _holdout_split(y, options.holdout_fraction, options.seed)
    if len(np.unique(y[fit])) < n_classes:
        raise ClassifierError("every label needs at least one training row")
    held_texts = [texts[i] for i in held]
    fit_texts = [texts[i] for i in fit]
    linear, encoders = _train_all(
        fit_texts, vectors[fit], y[fit], n_classes, options, progress, report, members=range(1)
    )
    report("calibrating on held-out rows", 0, 1)
    linear_held, encoder_held = _scores(linear, encoders, held_texts, vectors[held])
    linear, refit = _train_all(
        texts,
        vectors,
        y,
        n_classes,
        options,
        progress,
        report,
        members=range(1, options.encoders),
    )
    held_scores = [linear_held] + [encoder_held] * options.encoders
    return linear, encoders + refit, held_scores, y[held]
