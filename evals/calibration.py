"""Reliability of a confidence: does 0.8 mean right four times in five?

Expected calibration error over equal-width bins, and the bins themselves for the
eval report's reliability diagram.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def reliability(
    confidences: Sequence[float], outcomes: Sequence[bool], bins: int = 10
) -> dict[str, Any]:
    """ECE and per-bin (mean confidence, observed rate, count) over non-empty bins."""
    if not confidences:
        return {"ece": None, "bins": [], "n": 0}
    groups: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for confidence, outcome in zip(confidences, outcomes, strict=True):
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
    return {"ece": round(ece, 4), "bins": table, "n": total}
