"""Fine-tune mode on a small real Banking77 subset: an encoder ensemble that trains,
calibrates, saves and loads.  One epoch on a few dozen rows keeps it to seconds; the
full-size runs live in bench/classifier.py.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from app.triage.classify.offline import (
    ClassifierError,
    IntentClassifier,
    TrainOptions,
    TrainProgress,
)

LABELS = ["card_arrival", "lost_or_stolen_card", "exchange_rate", "top_up_failed"]
# MiniLM vectors for the linear model (finetune mode's default is mpnet): these tests are
# about the encoders, and a format-3 file, which had no mpnet option, is rebuilt below.
OPTIONS = TrainOptions(
    mode="finetune",
    features="embeddings",
    epochs=1,
    encoders=2,
    batch_size=8,
    holdout_fraction=0.25,
)

Rows = list[tuple[str, str]]


def _take(shared_data: Path, per_label: int, skip: int = 0) -> Rows:
    seen: dict[str, int] = defaultdict(int)
    out: Rows = []
    path = shared_data / "intent" / "banking77" / "train.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = row["category"]
            if label in LABELS:
                seen[label] += 1
                if skip < seen[label] <= skip + per_label:
                    out.append((row["text"], label))
    return out


def _finetune(
    train: Rows, minilm: Embeddings, calibration: Rows | None = None
) -> tuple[IntentClassifier, list[TrainProgress]]:
    """Train with OPTIONS, keeping the progress reports."""
    seen: list[TrainProgress] = []
    model = IntentClassifier.train(
        [t for t, _ in train],
        [y for _, y in train],
        embeddings=minilm,
        options=OPTIONS,
        progress=seen.append,
        calibration=None
        if calibration is None
        else ([t for t, _ in calibration], [y for _, y in calibration]),
    )
    return model, seen


@pytest.fixture(scope="module")
def finetuned(
    shared_data: Path, minilm: Embeddings
) -> tuple[IntentClassifier, list[TrainProgress]]:
    return _finetune(_take(shared_data, 32), minilm)


def _steps(seen: list[TrainProgress]) -> dict[str, int | None]:
    """Optimiser steps per encoder, from the progress reports (batch size 8)."""
    return {
        p.stage.split("fine-tuning ")[1].split(",")[0]: p.total
        for p in seen
        if p.stage.startswith("fine-tuning")
    }


@pytest.fixture(scope="module")
def unseen(shared_data: Path) -> Rows:
    return _take(shared_data, 10, skip=32)


def test_an_ensemble_of_encoders_is_calibrated_on_held_out_rows_then_refit(
    finetuned: tuple[IntentClassifier, list[TrainProgress]], unseen: Rows
) -> None:
    model, seen = finetuned
    assert model.info["encoders"] == 2
    assert len(model.temperatures) == 3, "the linear model and two encoders"
    assert model.info["heldout_rows"] == 32, "a quarter of each label's 32 rows"
    stages = [p.stage for p in seen]
    assert any("encoder 1/2" in s for s in stages)
    assert any("encoder 2/2" in s for s in stages)
    # The calibration pass comes between the first encoder and the refit on every row.
    calibrating = stages.index("calibrating on held-out rows")
    assert any("encoder 1/2" in s for s in stages[:calibrating])
    assert all("encoder 1/2" not in s for s in stages[calibrating:])
    # Encoder 1 trained on the 96 rows left after the held-out split, encoder 2 on all 128.
    assert _steps(seen) == {"encoder 1/2": 12, "encoder 2/2": 16}
    # Encoder 2 takes encoder 1's held-out calibration, not a fit on rows it has seen.
    assert model.temperatures[1] == model.temperatures[2]
    predictions = model.predict([t for t, _ in unseen])
    accuracy = np.mean([p.label == y for p, (_, y) in zip(predictions, unseen, strict=True)])
    assert accuracy >= 0.75, accuracy
    probabilities = model.probabilities([t for t, _ in unseen])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-9)


@pytest.fixture
def saved(finetuned: tuple[IntentClassifier, list[TrainProgress]], tmp_path: Path) -> Path:
    path = tmp_path / "model.joblib"
    finetuned[0].save(path)
    return path


def test_a_saved_ensemble_loads_with_the_same_probabilities(
    finetuned: tuple[IntentClassifier, list[TrainProgress]],
    saved: Path,
    unseen: Rows,
    minilm: Embeddings,
) -> None:
    model, _ = finetuned
    loaded = IntentClassifier.load(saved, embeddings=minilm)
    texts = [t for t, _ in unseen]
    np.testing.assert_allclose(loaded.probabilities(texts), model.probabilities(texts), atol=1e-6)
    assert loaded.threshold == model.threshold
    assert loaded.info["encoders"] == 2


def _as_written_by_format(saved: Path, version: int) -> dict[str, Any]:
    """The saved document as a release of `version` (3 or 4) wrote it, before `features`."""
    document: dict[str, Any] = joblib.load(saved)
    document["version"] = version
    del document["options"]["features"]
    return document


def test_a_format_3_file_with_a_single_encoder_still_loads(
    finetuned: tuple[IntentClassifier, list[TrainProgress]],
    saved: Path,
    unseen: Rows,
    minilm: Embeddings,
) -> None:
    model, _ = finetuned
    # What a release before encoder ensembles wrote: one encoder under "encoder".
    document = _as_written_by_format(saved, 3)
    document["encoder"] = document.pop("encoders")[0]
    document["temperatures"] = document["temperatures"][:2]
    del document["options"]["encoders"], document["info"]["encoders"]
    joblib.dump(document, saved)

    loaded = IntentClassifier.load(saved, embeddings=minilm)
    texts = [t for t, _ in unseen]
    probabilities = loaded.probabilities(texts)
    assert probabilities.shape == (len(texts), len(LABELS))
    assert loaded.options.encoders == loaded.info["encoders"] == 1
    # One encoder fewer moves the probabilities, not the decisions on clear rows.
    agree = probabilities.argmax(1) == model.probabilities(texts).argmax(1)
    assert agree.mean() >= 0.8


def test_a_format_4_file_keeps_the_minilm_vectors_it_was_trained_on(
    finetuned: tuple[IntentClassifier, list[TrainProgress]],
    saved: Path,
    unseen: Rows,
    minilm: Embeddings,
) -> None:
    model, _ = finetuned
    # Unset, finetune mode's features would now mean mpnet.
    joblib.dump(_as_written_by_format(saved, 4), saved)

    loaded = IntentClassifier.load(saved, embeddings=minilm)
    assert loaded.options.features == "embeddings"
    texts = [t for t, _ in unseen]
    np.testing.assert_allclose(loaded.probabilities(texts), model.probabilities(texts), atol=1e-6)


def test_with_a_calibration_set_every_encoder_trains_on_every_row(
    shared_data: Path, minilm: Embeddings
) -> None:
    train, calibration = _take(shared_data, 12), _take(shared_data, 8, skip=12)
    model, seen = _finetune(train, minilm, calibration)
    assert _steps(seen) == {"encoder 1/2": 6, "encoder 2/2": 6}, "48 rows each, batch size 8"
    assert model.info["calibrated_on"] == "calibration set"
    assert model.info["heldout_rows"] == len(calibration) == 32
    assert model.info["n"] == len(train)
    assert len(model.temperatures) == 3


def test_too_few_rows_to_hold_out_a_calibration_split_is_refused_before_training(
    shared_data: Path, minilm: Embeddings
) -> None:
    seen: list[TrainProgress] = []
    train = _take(shared_data, 16)  # a quarter held out: 16 rows, under the 30 needed
    with pytest.raises(ClassifierError, match="got 16; at least 30 are needed"):
        IntentClassifier.train(
            [t for t, _ in train],
            [y for _, y in train],
            embeddings=minilm,
            options=OPTIONS,
            progress=seen.append,
        )
    assert seen == [], "refused before the rows were even embedded"


def test_the_same_seed_fine_tunes_the_same_encoder(shared_data: Path) -> None:
    import torch

    from app.triage.classify.offline.finetune import FineTunedEncoder

    train = _take(shared_data, 6)
    texts, targets = [t for t, _ in train], np.asarray([LABELS.index(y) for _, y in train])
    logits = []
    for _ in range(2):
        torch.rand(7)  # whatever else used torch's generator must not matter
        encoder = FineTunedEncoder(len(LABELS), max_seq_length=32, threads=2)
        encoder.fit(texts, targets, OPTIONS)
        logits.append(encoder.logits(texts))
    np.testing.assert_array_equal(logits[0], logits[1])
