"""Classification metrics for category and priority predictions, computed with scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
)

URGENT_PRIORITY = "P1"


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationReport:
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    labels: list[str]
    confusion: list[list[int]]  # rows are true labels, columns predictions, both in `labels` order
    n: int

    def as_dict(self) -> dict[str, object]:
        """Nested metric dict for metrics.json; the confusion matrix is left to the report."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n": self.n,
            "per_class": {
                label: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "support": s.support,
                }
                for label, s in self.per_class.items()
            },
        }


def _check(y_true: Sequence[str], y_pred: Sequence[str]) -> None:
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if not y_true:
        raise ValueError("no labelled items to score")


def classification_report(
    y_true: Sequence[str], y_pred: Sequence[str], *, labels: Sequence[str] | None = None
) -> ClassificationReport:
    """Accuracy, macro-F1, per-class P/R/F1/support and the confusion matrix.

    `labels` fixes the label set and order (e.g. the whole taxonomy, so a class never
    predicted still shows up with F1 0); by default it is every label seen, sorted.
    Macro-F1 averages over that label set.  Undefined precision/recall (no predictions
    or no true items for a class) count as 0, scikit-learn's `zero_division=0`.
    """
    _check(y_true, y_pred)
    label_list = list(labels) if labels is not None else sorted({*y_true, *y_pred})
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=label_list, average=None, zero_division=0
    )
    per_class = {
        label: ClassScores(float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(label_list, precision, recall, f1, support, strict=True)
    }
    matrix = confusion_matrix(y_true, y_pred, labels=label_list)
    return ClassificationReport(
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(
            f1_score(y_true, y_pred, labels=label_list, average="macro", zero_division=0)
        ),
        per_class=per_class,
        labels=label_list,
        confusion=[[int(v) for v in row] for row in matrix],
        n=len(y_true),
    )


def p1_recall(
    y_true: Sequence[str], y_pred: Sequence[str], *, positive: str = URGENT_PRIORITY
) -> float | None:
    """Recall of the urgent priority: the share of true P1 items predicted P1.

    Missing a P1 is the costliest triage error, so it is gated on its own.  Returns None
    when the data has no true P1 item, where recall is undefined.
    """
    _check(y_true, y_pred)
    if positive not in y_true:
        return None
    return float(recall_score(y_true, y_pred, labels=[positive], average="micro"))
