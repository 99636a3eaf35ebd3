"""Training the classifier's parts: the linear model, the fine-tuned encoders, and the
held-out scores that calibrate them (see `model` for how the modes use them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.triage.classify.offline.finetune import FineTunedEncoder
from app.triage.classify.offline.linear import LinearTextModel
from app.triage.classify.offline.types import (
    ClassifierError,
    ProgressCallback,
    TrainOptions,
    TrainProgress,
)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
# Below this a temperature fit swings to its bounds on one or two confident mistakes
# (a one-row set did), and the threshold rule has nothing to trade.
MIN_CALIBRATION_ROWS = 30

Fitted = tuple[LinearTextModel, list[FineTunedEncoder], list[FloatArray], np.ndarray[Any, Any]]


@dataclass(frozen=True)
class Rows:
    """Training rows: texts, their embeddings and integer targets, over `n_classes` labels."""

    texts: list[str]
    vectors: FloatArray
    y: np.ndarray[Any, Any]
    n_classes: int

    def take(self, index: np.ndarray[Any, Any]) -> Rows:
        return Rows(
            [self.texts[i] for i in index], self.vectors[index], self.y[index], self.n_classes
        )


def report(
    progress: ProgressCallback | None, stage: str, done: int = 0, total: int | None = None
) -> None:
    if progress is not None:
        progress(TrainProgress(stage, done, total))


def part_scores(
    linear: LinearTextModel,
    encoders: list[FineTunedEncoder],
    texts: list[str],
    vectors: FloatArray,
) -> list[FloatArray]:
    """Each part's raw scores for the rows, linear first, as `IntentClassifier` combines them."""
    return [linear.decision(texts, vectors), *(encoder.logits(texts) for encoder in encoders)]


def _new_linear(options: TrainOptions) -> LinearTextModel:
    return LinearTextModel(
        c=options.svm_c, embedding_weight=options.embedding_weight, seed=options.seed
    )


def train_frozen(rows: Rows, options: TrainOptions, progress: ProgressCallback | None) -> Fitted:
    folds = _fold_ids(rows.y, options.cv_folds, options.seed)
    held = np.flatnonzero(folds >= 0)
    scores = np.zeros((len(rows.y), rows.n_classes))
    for k in range(options.cv_folds):
        out = np.flatnonzero(folds == k)
        if not len(out):
            continue
        report(progress, "calibrating (cross-validation)", k, options.cv_folds)
        model = _new_linear(options)
        kept = rows.take(np.flatnonzero(folds != k))
        model.fit(kept.texts, kept.vectors, kept.y)
        left_out = rows.take(out)
        scores[out] = model.decision(left_out.texts, left_out.vectors)
    linear, _ = train_all(rows, options, progress)
    return linear, [], [scores[held]], rows.y[held]


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


def calibration_rows(
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


def train_all(
    rows: Rows,
    options: TrainOptions,
    progress: ProgressCallback | None,
    *,
    members: range | None = None,
) -> tuple[LinearTextModel, list[FineTunedEncoder]]:
    """The linear model and, in finetune mode, encoders `members` (default all), on all `rows`."""
    report(progress, "fitting the linear model", 0, 1)
    linear = _new_linear(options)
    linear.fit(rows.texts, rows.vectors, rows.y)
    if options.mode == "frozen":
        return linear, []
    encoders = []
    for member in range(options.encoders) if members is None else members:
        encoder = FineTunedEncoder(
            rows.n_classes, max_seq_length=options.max_seq_length, threads=options.threads
        )
        # Seeds differ per member: the ensemble gains from their disagreement.
        seeded = options.model_copy(update={"seed": options.seed + member})
        encoder.fit(rows.texts, rows.y, seeded, progress, member=(member, options.encoders))
        encoders.append(encoder)
    return linear, encoders


def finetune_split(
    y: np.ndarray[Any, Any], n_classes: int, options: TrainOptions
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Rows the first encoder trains on and rows held out to calibrate; refused if the
    held-out part is too small to calibrate on (cheap: call it before embedding)."""
    fit, held = _holdout_split(y, options.holdout_fraction, options.seed)
    if len(np.unique(y[fit])) < n_classes:
        raise ClassifierError("every label needs at least one training row")
    if len(held) < MIN_CALIBRATION_ROWS:
        raise ClassifierError(
            f"finetune mode holds out {options.holdout_fraction:.0%} of the rows to calibrate "
            f"and got {len(held)}; at least {MIN_CALIBRATION_ROWS} are needed. Add rows, pass "
            "a calibration set (--calibration), or use frozen mode, which calibrates by "
            "cross-validation on every row"
        )
    return fit, held


def train_finetune(rows: Rows, options: TrainOptions, progress: ProgressCallback | None) -> Fitted:
    """Calibrate on a held-out split with the first encoder, then refit on every row.

    The returned held-out scores repeat the first encoder's for each member trained
    on every row, so the temperatures and the threshold fitted on them weigh the
    parts as the final ensemble does.
    """
    fit, held = finetune_split(rows.y, rows.n_classes, options)
    linear, encoders = train_all(rows.take(fit), options, progress, members=range(1))
    report(progress, "calibrating on held-out rows", 0, 1)
    held_rows = rows.take(held)
    linear_held, encoder_held = part_scores(linear, encoders, held_rows.texts, held_rows.vectors)
    linear, refit = train_all(rows, options, progress, members=range(1, options.encoders))
    held_scores = [linear_held] + [encoder_held] * options.encoders
    return linear, encoders + refit, held_scores, held_rows.y
