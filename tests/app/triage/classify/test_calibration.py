"""Choosing the out-of-scope threshold on held-out rows."""

from __future__ import annotations

import numpy as np
import pytest

from app.triage.classify.offline.calibration import choose_threshold, decide

OOS = 2  # columns: label 0, label 1, the learnt out-of-scope class


def _rows(best: list[float], label: list[int]) -> np.ndarray:
    """Rows whose winning in-scope probability is `best`, on column `label`."""
    out = np.zeros((len(best), 3))
    for i, (p, k) in enumerate(zip(best, label, strict=True)):
        out[i, k] = p
        out[i, 1 - k] = (1 - p) / 2
        out[i, OOS] = (1 - p) / 2
    return out


def test_the_threshold_spends_at_most_the_in_scope_budget() -> None:
    # 100 in-scope rows, all right, confidences 0.50..0.99; 4 OOS rows at 0.42..0.60.
    in_scope = [0.5 + i * 0.0049 for i in range(100)]
    oos = [0.42, 0.45, 0.55, 0.6]
    probabilities = _rows(in_scope + oos, [0] * 104)
    targets = np.array([0] * 100 + [OOS] * 4)

    strict = choose_threshold(
        probabilities, targets, oos_index=OOS, max_in_scope_loss=0.0, min_accuracy=0.5
    )
    # Without a budget only the OOS rows below every in-scope row are rejected.
    assert 0.45 < strict <= 0.5
    budget = choose_threshold(
        probabilities, targets, oos_index=OOS, max_in_scope_loss=0.11, min_accuracy=0.5
    )
    decided = decide(probabilities, oos_index=OOS, threshold=budget)
    # Eleven in-scope rows (0.50..0.549) are the price of the OOS row at 0.55; the one
    # at 0.6 would cost twenty, beyond the budget.
    assert int((decided.index[:100] == -1).sum()) == 11
    assert int((decided.index[100:] == -1).sum()) == 3


def test_wrong_in_scope_answers_cost_nothing_to_reject() -> None:
    # Low-confidence in-scope rows that are wrong anyway: rejecting them is free.
    probabilities = _rows([0.4, 0.45, 0.9, 0.95, 0.42], [1, 1, 0, 0, 0])
    targets = np.array([0, 0, 0, 0, OOS])
    threshold = choose_threshold(
        probabilities, targets, oos_index=OOS, max_in_scope_loss=0.0, min_accuracy=0.5
    )
    decided = decide(probabilities, oos_index=OOS, threshold=threshold)
    assert decided.index.tolist() == [-1, -1, 0, 0, -1]


def test_without_oos_rows_rejection_starts_where_answers_turn_unreliable() -> None:
    probabilities = _rows([0.4, 0.45, 0.8, 0.9], [1, 1, 0, 0])
    targets = np.array([0, 0, 0, 0])
    threshold = choose_threshold(
        probabilities, targets, oos_index=None, max_in_scope_loss=0.01, min_accuracy=0.9
    )
    assert threshold == pytest.approx(0.45, abs=1e-6)
