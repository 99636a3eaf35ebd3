"""`triage classifier train` and `triage classifier eval` on labelled CSV files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli.output import CliError, print_json, stderr_console
from app.cli.settings_loader import load_settings
from app.knowledge import build_embeddings
from app.settings import Settings
from app.triage.classify.offline import (
    ClassifierError,
    DatasetError,
    IntentClassifier,
    LabelledTexts,
    Mode,
    TrainOptions,
    TrainProgress,
    evaluate_predictions,
    read_labelled_csv,
)
from ingest.embeddings import CountingEmbeddings, EmbeddingModelError

CsvArg = Annotated[Path, typer.Argument(help="CSV file with a header row.")]
TextColOpt = Annotated[str, typer.Option("--text-col", help="Column holding the message text.")]
LabelColOpt = Annotated[str, typer.Option("--label-col", help="Column holding the label.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _read(path: Path, text_col: str, label_col: str) -> LabelledTexts:
    try:
        return read_labelled_csv(path, text_col=text_col, label_col=label_col)
    except DatasetError as exc:
        raise CliError(str(exc)) from exc


def _embeddings(settings: Settings) -> CountingEmbeddings:
    try:
        return build_embeddings(settings)
    except (ValueError, EmbeddingModelError) as exc:
        raise CliError(str(exc)) from exc


def train(
    csv_path: CsvArg,
    text_col: TextColOpt = "text",
    label_col: LabelColOpt = "label",
    out: Annotated[
        Path | None, typer.Option("--out", help="Model file (default: settings).")
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="frozen (seconds) or finetune (minutes, more accurate).")
    ] = "frozen",
    oos_label: Annotated[
        str, typer.Option("--oos-label", help="Label meaning out of scope ('' for none).")
    ] = "oos",
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=20, help="finetune only.")] = 3,
    encoders: Annotated[
        int,
        typer.Option(
            "--encoders",
            min=1,
            max=8,
            help="finetune only: fine-tuned encoders in the ensemble (training time grows "
            "with each).",
        ),
    ] = TrainOptions().encoders,
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help="Sentence vectors of the linear model: embeddings (the configured model) or "
            "mpnet (the packaged all-mpnet-base-v2: more accurate, slower). Default: mpnet "
            "with --mode finetune, embeddings with --mode frozen.",
        ),
    ] = None,
    calibration_csv: Annotated[
        Path | None,
        typer.Option(
            "--calibration",
            help="Labelled CSV (same columns) to calibrate confidence and the out-of-scope "
            "threshold on, e.g. a sample of real traffic; training then uses every row.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train the offline intent classifier on CSV and save it."""
    if mode not in ("frozen", "finetune"):
        raise CliError(f"--mode must be frozen or finetune, not {mode!r}")
    if features not in (None, "embeddings", "mpnet"):
        raise CliError(f"--features must be embeddings or mpnet, not {features!r}")
    data = _read(csv_path, text_col, label_col)
    if len(set(data.labels)) < 2:
        raise CliError(f"{csv_path}: column {label_col!r} needs at least two distinct labels")
    calibration = None
    if calibration_csv is not None:
        held = _read(calibration_csv, text_col, label_col)
        calibration = (held.texts, held.labels)
    settings = load_settings()
    path = out or settings.resolved_classifier_path
    chosen: Mode = "finetune" if mode == "finetune" else "frozen"
    # features=None is left to TrainOptions, which picks them by mode.
    options = TrainOptions.model_validate(
        {
            "mode": chosen,
            "features": features,
            "oos_label": oos_label or None,
            "epochs": epochs,
            "encoders": encoders,
        }
    )
    embeddings = _embeddings(settings)
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=as_json,
    ) as bar:
        task = bar.add_task("train", total=None)

        def on_progress(p: TrainProgress) -> None:
            bar.update(task, description=p.stage, completed=p.done, total=p.total)

        try:
            model = IntentClassifier.train(
                data.texts,
                data.labels,
                embeddings=embeddings,
                options=options,
                progress=on_progress,
                calibration=calibration,
            )
            model.save(path)
        except (ClassifierError, EmbeddingModelError) as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
    report: dict[str, Any] = {
        "n": len(data.texts),
        "labels": model.labels,
        "seconds": round(time.perf_counter() - started, 1),
        "path": str(path),
        "mode": mode,
        "oos_label": model.labels[model.oos_index] if model.oos_index is not None else None,
        "threshold": round(model.threshold, 4),
        "calibrated_on": model.info.get("calibrated_on"),
        "encoders": model.info.get("encoders"),
        "features": model.options.features,
        "heldout_accuracy": model.info.get("heldout_accuracy"),
    }
    if as_json:
        print_json(report)
    else:
        typer.echo(
            f"trained on {report['n']} rows, {len(model.labels)} labels, in "
            f"{report['seconds']}s ({mode}); saved to {path}"
        )


def evaluate(
    csv_path: CsvArg,
    text_col: TextColOpt = "text",
    label_col: LabelColOpt = "label",
    model_path: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: settings).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a trained classifier on labelled CSV: accuracy, macro-F1, ECE, OOS recall."""
    data = _read(csv_path, text_col, label_col)
    settings = load_settings()
    path = model_path or settings.resolved_classifier_path
    embeddings = _embeddings(settings)
    try:
        model = IntentClassifier.load(path, embeddings=embeddings)
        predictions = model.predict(data.texts)
    except (ClassifierError, EmbeddingModelError) as exc:
        raise CliError(str(exc)) from exc
    oos = model.options.oos_label
    gold = [None if label == oos else label for label in data.labels]
    report = evaluate_predictions(
        gold, [p.label for p in predictions], [p.confidence for p in predictions]
    )
    known = set(model.labels)
    report["unknown_labels"] = sorted({g for g in gold if g is not None and g not in known})
    report["model"] = str(path)
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="classifier",
        help="Train and evaluate the offline intent classifier.",
        no_args_is_help=True,
    )
    group.command("train")(train)
    group.command("eval")(evaluate)
    app.add_typer(group, name="classifier")
