"""How well `needs_human` picks out the questions the docs cannot answer.

The positive class is "needs a human" / "not answerable": precision is the share of
escalations that were warranted, recall the share of unanswerable questions escalated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


@dataclass(frozen=True)
class AbstentionReport:
    precision: float | None  # None when nothing was escalated
    recall: float | None  # None when every item was answerable
    f1: float | None
    tp: int  # escalated and unanswerable
    fp: int  # escalated although answerable
    fn: int  # answered although unanswerable
    tn: int
    n: int
    n_skipped: int  # items whose answerability is unknown

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _defined(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def abstention_metrics(
    needs_human: Sequence[bool], answerable: Sequence[bool | None]
) -> AbstentionReport:
    """Score escalation decisions against answerability; items with unknown answerability
    (None) are skipped."""
    if len(needs_human) != len(answerable):
        raise ValueError(f"{len(needs_human)} decisions but {len(answerable)} labels")
    pairs = [
        (bool(h), not a) for h, a in zip(needs_human, answerable, strict=True) if a is not None
    ]
    skipped = len(needs_human) - len(pairs)
    if not pairs:
        return AbstentionReport(None, None, None, 0, 0, 0, 0, 0, skipped)
    y_pred = [p for p, _ in pairs]
    y_true = [t for _, t in pairs]
    matrix = confusion_matrix(y_true, y_pred, labels=[False, True])
    tn, fp, fn, tp = (int(v) for v in matrix.ravel())
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=[True], average="binary", pos_label=True, zero_division=math.nan
    )
    return AbstentionReport(
        precision=_defined(precision),
        recall=_defined(recall),
        # F1 is only meaningful when both of its parts are
        f1=_defined(f1) if tp + fp and tp + fn else None,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        n=len(pairs),
        n_skipped=skipped,
    )
