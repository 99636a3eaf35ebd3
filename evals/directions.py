"""Gate rules for the metrics the runner defines beyond `evals/tolerances.yaml`.

The tolerance file's default is "higher is better", which is wrong for counts such as
token usage or for error rates.  Which way a metric improves is a property of the
metric, so the runner declares it here; these rules are applied after the file's
globs (the last matching glob wins), and a tolerance file can still override any of
them with an exact metric name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RUNNER_RULES: dict[str, Any] = {
    # Bookkeeping about the run (sizes, wall time, names).
    "run.*": {"direction": "info"},
    # Token counts move with every change to the drafts; they are reported, not gated.
    "cost.*": {"direction": "info"},
    # How hand-offs split across reasons explains abstention; the rates are gated.
    "abstention.reasons.*": {"direction": "info"},
    # Error rates: lower is better.
    "safety.false_redaction_rate": {"tolerance": 0.02, "direction": "lower_is_better"},
    "safety.injection_false_flag_rate": {"tolerance": 0.02, "direction": "lower_is_better"},
    "abstention.by_class.answerable.escalation_rate": {
        "tolerance": 0.02,
        "direction": "lower_is_better",
    },
    "abstention.by_class.*.n": {"direction": "info"},
}


def effective_tolerances(spec: Mapping[str, Any]) -> dict[str, Any]:
    """`spec` (a loaded tolerance file) with the runner's rules added."""
    metrics = dict(spec.get("metrics") or {})
    exact = {k: v for k, v in metrics.items() if not any(ch in k for ch in "*?[")}
    merged = {**{k: v for k, v in metrics.items() if k not in exact}, **RUNNER_RULES, **exact}
    out = dict(spec)
    out["metrics"] = merged
    return out
