"""Fit draft confidence to graded drafts: P(the draft answers the question).

Reads graded drafts (`evals/datasets/*_graded.jsonl`: `id`, `grade` in answers /
partial / no / wrong, and the `answer_features` the drafter recorded for that draft),
fits a logistic regression on the rows of the --fit datasets, and measures it on the
rows of the --measure datasets, which it never fits on: ECE, and the share of drafts
that answer among those shown at each candidate /v1/ask threshold.  --write stores the
coefficients in app/triage/draft/answer_model.json; with --words-only (no meaning
features: a knowledge base on other embeddings) in answer_model_words.json.

    python bench/fit_answer_model.py --graded evals/datasets/grid_graded.jsonl \
        --fit grid_dev,grid_dev_b --measure grid_holdout [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import _common  # noqa: F401  (puts the repo first on sys.path)
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

from app.triage.classify.offline.metrics import reliability
from app.triage.draft.confidence import FEATURE_NAMES, AnswerFeatures

MODEL_PATH = Path("app/triage/draft/answer_model.json")
WORDS_MODEL_PATH = Path("app/triage/draft/answer_model_words.json")
MEANING_FEATURES = ("meaning_top", "meaning_gap")


def _rows(paths: list[Path], datasets: set[str]) -> list[dict[str, object]]:
    """Graded section drafts of these datasets (what the logistic model scores).  A hand-off
    has no draft of its own graded: its row says nothing of the draft it held back."""
    return [
        r for r in _graded(paths, datasets) if _kind(r) == "section" and r["grade"] != "handoff"
    ]


def _graded(paths: list[Path], datasets: set[str]) -> list[dict[str, object]]:
    """Rows of these datasets; a dataset graded in a later file is read from that file only
    (`grid_graded_forced.jsonl`: every draft of a set, forced past the floor and graded with
    today's drafter, in place of the drafts shown when the set was first measured)."""
    by_dataset: dict[str, list[dict[str, object]]] = {}
    for path in paths:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        found: dict[str, list[dict[str, object]]] = {}
        for row in rows:
            found.setdefault(str(row.get("dataset")), []).append(row)
        by_dataset.update(found)
    return [
        r
        for name, rows in by_dataset.items()
        if name in datasets
        for r in rows
        if r.get("answer_features")
    ]


def _kind(row: dict[str, object]) -> str:
    return str(dict(row["answer_features"]).get("kind", "section"))  # type: ignore[call-overload]


def graded_answers(paths: list[Path], datasets: set[str], kind: str) -> dict[str, int] | None:
    """How many graded drafts of a rule-picked kind there are and how many answered:
    "parameters" (lookup.py's query-parameter lists), "status" (status.py's meaning of a
    pasted status on a pasted endpoint), "event" (events.py's webhook event)."""
    rows = [r for r in _graded(paths, datasets) if _kind(r) == kind and r["grade"] != "handoff"]
    if not rows:
        return None
    return {"graded": len(rows), "answers": sum(r["grade"] == "answers" for r in rows)}


def _matrix(
    rows: list[dict[str, object]], *, words_only: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for row in rows:
        raw = dict(row["answer_features"])  # type: ignore[call-overload]
        fields = AnswerFeatures.__dataclass_fields__
        features = AnswerFeatures(**{k: raw[k] for k in fields if k in raw})
        if words_only:
            # As a drafter without a local embedding model records them: an all-zero
            # column gets a zero coefficient.
            for name in MEANING_FEATURES:
                setattr(features, name, 0.0)
        x.append(features.vector())
        y.append(row["grade"] == "answers")
    return np.array(x, dtype=float), np.array(y, dtype=bool)


def _summary(name: str, p: np.ndarray, y: np.ndarray) -> None:
    calib = reliability(p.tolist(), y.tolist())
    print(f"{name}: n={len(y)} answers={int(y.sum())} ECE={calib['ece']}")
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        shown = p >= threshold
        if shown.any():
            precision = y[shown].mean()
            print(
                f"  threshold {threshold:.1f}: shown {int(shown.sum()):3d}, "
                f"answer {precision:.3f}, wrong {1 - precision:.3f}"
            )


def _cross_validate(rows: list[dict[str, object]], c: float, words_only: bool) -> None:
    """Leave one dataset out: each set's drafts scored by a model fitted on the others."""
    groups = [str(r["dataset"]) for r in rows]
    x, y = _matrix(rows, words_only=words_only)
    scored = cross_val_predict(
        LogisticRegression(C=c, max_iter=2000),
        x,
        y,
        groups=groups,
        cv=LeaveOneGroupOut(),
        method="predict_proba",
    )[:, 1]
    _summary(f"leave-one-dataset-out ({', '.join(sorted(set(groups)))})", scored, y)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--graded", type=Path, nargs="+", required=True, help="graded files, later ones win"
    )
    parser.add_argument("--fit", required=True, help="comma-separated dataset names")
    parser.add_argument("--measure", default="", help="comma-separated dataset names")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation")
    parser.add_argument(
        "--words-only",
        action="store_true",
        help="fit without the meaning features (the model for non-local embeddings)",
    )
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="also score each --fit dataset with a model fitted on the other ones",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    fit_rows = _rows(args.graded, set(args.fit.split(",")))
    if len(fit_rows) < 20:
        print(f"only {len(fit_rows)} graded rows to fit on; need 20", file=sys.stderr)
        return 2
    x, y = _matrix(fit_rows, words_only=args.words_only)
    model = LogisticRegression(C=args.c, max_iter=2000, class_weight=None)
    model.fit(x, y)
    _summary("fit rows (in-sample)", model.predict_proba(x)[:, 1], y)
    if args.cross_validate:
        _cross_validate(fit_rows, args.c, args.words_only)
    if args.measure:
        measure_rows = _rows(args.graded, set(args.measure.split(",")))
        if measure_rows:
            mx, my = _matrix(measure_rows, words_only=args.words_only)
            _summary("measured rows (never fitted)", model.predict_proba(mx)[:, 1], my)
    coefficients = [round(float(c), 5) for c in model.coef_[0]]
    print(json.dumps(dict(zip(FEATURE_NAMES, coefficients, strict=True)), indent=1))
    if args.write:
        fitted = set(args.fit.split(","))
        target = WORDS_MODEL_PATH if args.words_only else MODEL_PATH
        target.write_text(
            json.dumps(
                {
                    "fitted_on": f"{' + '.join(p.name for p in args.graded)}: {args.fit} "
                    f"({len(fit_rows)} graded drafts)",
                    "features": list(FEATURE_NAMES),
                    "coefficients": coefficients,
                    "intercept": round(float(model.intercept_[0]), 5),
                    "parameter_answers": graded_answers(args.graded, fitted, "parameters"),
                    "status_answers": graded_answers(args.graded, fitted, "status"),
                    "event_answers": graded_answers(args.graded, fitted, "event"),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
