"""Temperature scaling and the out-of-scope threshold, both fitted on held-out rows.

Temperature scaling (Guo et al. 2017) divides the logits by one scalar chosen to
minimise held-out log-loss: it fixes over-confidence without changing which label
wins, so accuracy is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def softmax(logits: FloatArray, temperature: float = 1.0) -> FloatArray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def fit_temperature(logits: FloatArray, targets: np.ndarray[Any, Any]) -> float:
    """The temperature minimising held-out negative log-likelihood (1.0 if nothing to fit)."""
    from scipy.optimize import minimize_scalar

    if len(targets) == 0:
        return 1.0
    z = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(targets))

    def nll(log_t: float) -> float:
        scaled = z / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float((log_norm - scaled[rows, targets]).mean())

    # Searching log T keeps T positive; e^-3..e^3 covers every sane head.
    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


@dataclass(frozen=True)
class Decisions:
    """Per row: the winning in-scope class index (or -1 when rejected) and its confidence."""

    index: np.ndarray[Any, np.dtype[np.int64]]
    confidence: FloatArray


def decide(probabilities: FloatArray, *, oos_index: int | None, threshold: float) -> Decisions:
    """Reject a row when the OOS class wins or the best in-scope probability is below threshold.

    A rejected row's confidence is the probability that no in-scope label applies,
    i.e. 1 - best in-scope probability, so it stays comparable to accepted rows.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    in_scope = p.copy()
    if oos_index is not None:
        in_scope[:, oos_index] = -1.0
    best = in_scope.argmax(axis=1)
    best_p = in_scope[np.arange(len(p)), best]
    rejected = best_p < threshold
    if oos_index is not None:
        rejected |= p.argmax(axis=1) == oos_index
    index = np.where(rejected, -1, best).astype(np.int64)
    confidence = np.where(rejected, 1.0 - best_p, best_p)
    return Decisions(index=index, confidence=confidence)


def choose_threshold(
    probabilities: FloatArray,
    targets: np.ndarray[Any, Any],
    *,
    oos_index: int | None,
    max_in_scope_loss: float,
    min_accuracy: float,
) -> float:
    """Pick the rejection threshold on held-out rows.

    With out-of-scope rows in the held-out set, take the highest threshold whose
    in-scope accuracy (a rejected in-scope row counts as an error) is at most
    `max_in_scope_loss` below that of no threshold: as much OOS recall as that budget
    buys.  A budget, not a weighted sum: held-out sets hold few OOS rows (CLINC150:
    1 in 30), and a sum that weighs them against the in-scope rows trades a hundred
    in-scope answers for one more rejection.  Without OOS rows, take the lowest
    threshold at which the accepted held-out predictions are at least `min_accuracy`
    correct, so rejection only kicks in where the model is unreliable.
    """
    targets = np.asarray(targets)
    if len(targets) == 0:
        return 0.0
    base = decide(probabilities, oos_index=oos_index, threshold=0.0)
    # Only the in-scope winner's probability moves with the threshold; sort once.
    masked = np.asarray(probabilities, dtype=np.float64).copy()
    if oos_index is not None:
        masked[:, oos_index] = -1.0
    best_p = masked.max(axis=1)
    order = np.argsort(best_p, kind="stable")
    ranked = best_p[order]
    # Candidate k+1 rejects rows order[:k+1]: just above their probability, and only
    # at the end of a run of ties, since tied rows are rejected together.
    thresholds = np.concatenate([[0.0], np.nextafter(ranked, np.inf)])
    valid = np.concatenate([[True], np.append(ranked[:-1] != ranked[1:], True)])
    is_oos = targets == oos_index if oos_index is not None else np.zeros(len(targets), bool)
    accepted0 = base.index >= 0
    right0 = accepted0 & (base.index == targets)
    # Raising the threshold past row order[k] rejects rows order[:k+1].
    lost_right = np.concatenate([[0], np.cumsum(right0[order])])
    lost_accepted = np.concatenate([[0], np.cumsum(accepted0[order])])
    n_oos, n_in = int(is_oos.sum()), int((~is_oos).sum())
    if n_oos:
        in_acc = (right0.sum() - lost_right) / max(n_in, 1)
        # in_acc never rises with the threshold and OOS recall never falls, so the
        # affordable thresholds are a prefix and its last one catches the most OOS rows.
        affordable = np.flatnonzero(valid & (in_acc >= in_acc[0] - max_in_scope_loss - 1e-12))
        return float(thresholds[affordable[-1]])
    accepted = accepted0.sum() - lost_accepted
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(accepted > 0, (right0.sum() - lost_right) / accepted, 1.0)
    ok = np.flatnonzero(valid & (precision >= min_accuracy))
    return float(thresholds[ok[0]]) if ok.size else float(thresholds[-1])
