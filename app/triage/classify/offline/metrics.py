"""Evaluation figures shared by the CLI and the benchmark.

Out-of-scope rows follow the CLINC150 convention: an in-scope row predicted as
out of scope counts as wrong for in-scope accuracy, and OOS recall is the share
of out-of-scope rows the classifier rejected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

ECE_BINS = 15


def _binned(
    confidences: Sequence[float], outcomes: Sequence[bool], bins: int, right_closed: bool
) -> tuple[float, list[dict[str, Any]]]:
    """Unrounded ECE and the table of non-empty bins; `confidences` is not empty."""
    groups: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for confidence, outcome in zip(confidences, outcomes, strict=True):
        if right_closed:
            index = min(max(math.ceil(confidence * bins) - 1, 0), bins - 1)
        else:
            index = min(int(confidence * bins), bins - 1)
        groups[index].append((confidence, outcome))
    total = len(confidences)
    ece = 0.0
    table = []
    for index, group in enumerate(groups):
        if not group:
            continue
        mean_conf = sum(c for c, _ in group) / len(group)
        observed = sum(o for _, o in group) / len(group)
        ece += len(group) / total * abs(mean_conf - observed)
        table.append(
            {
                "low": index / bins,
                "high": (index + 1) / bins,
                "confidence": round(mean_conf, 4),
                "observed": round(observed, 4),
                "n": len(group),
            }
        )
    return ece, table


def reliability(
    confidences: Sequence[float], outcomes: Sequence[bool], bins: int = 10
) -> dict[str, Any]:
    """ECE and per-bin (mean confidence, observed rate, count) over non-empty bins.

    Bins are [e_i, e_i+1) (confidence 1 joins the last one), as the eval report's
    reliability diagram and its committed baselines have always used.
    """
    if not confidences:
        return {"ece": None, "bins": [], "n": 0}
    ece, table = _binned(confidences, outcomes, bins, right_closed=False)
    return {"ece": round(ece, 4), "bins": table, "n": len(confidences)}


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], *, bins: int = ECE_BINS
) -> float:
    """Top-label ECE with equal-width bins: the gap between confidence and accuracy.

    Bin i holds (e_i, e_i+1]; confidence 0 joins the first bin.
    """
    if len(confidences) == 0:
        return 0.0
    return _binned(confidences, correct, bins, right_closed=True)[0]


def evaluate_predictions(
    gold: Sequence[str | None],
    predicted: Sequence[str | None],
    confidences: Sequence[float],
) -> dict[str, Any]:
    """Accuracy, macro-F1 and ECE; OOS recall and in-scope accuracy when gold has None rows.

    `None` stands for out of scope on both sides.  Macro-F1 averages over the gold
    labels (out of scope included as its own class when present).
    """
    from sklearn.metrics import f1_score

    if len(gold) != len(predicted) or len(gold) != len(confidences):
        raise ValueError("gold, predicted and confidences must have the same length")
    if not gold:
        raise ValueError("nothing to evaluate")
    oos = "\x00oos"  # sentinel that cannot collide with a real label
    g = np.asarray([oos if v is None else v for v in gold], dtype=object)
    p = np.asarray([oos if v is None else v for v in predicted], dtype=object)
    correct = g == p
    report: dict[str, Any] = {
        "n": len(g),
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(
            float(f1_score(g, p, labels=sorted(set(g)), average="macro", zero_division=0)), 4
        ),
        "ece": round(expected_calibration_error(confidences, correct.tolist()), 4),
        "rejected": int((p == oos).sum()),
    }
    in_scope = g != oos
    if (~in_scope).any():
        report["n_oos"] = int((~in_scope).sum())
        report["oos_recall"] = round(float((p[~in_scope] == oos).mean()), 4)
        rejected = p == oos
        report["oos_precision"] = (
            round(float((g[rejected] == oos).mean()), 4) if rejected.any() else 0.0
        )
        if in_scope.any():
            report["in_scope_accuracy"] = round(float(correct[in_scope].mean()), 4)
    return report
