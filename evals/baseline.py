"""What of a run goes into a committed baseline.

Latency and wall time measure the machine as much as the code: a baseline recorded on a
laptop would fail (or trivially pass) on a loaded CI runner.  They are left out, so the
gate compares only what the code decides; a baseline recorded on the gating machine
itself (its `metrics.json`) still gates latency under `evals/tolerances.yaml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MACHINE_DEPENDENT = ("latency",)
MACHINE_DEPENDENT_RUN_KEYS = ("seconds",)


def baseline_of(metrics: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in metrics.items() if k not in MACHINE_DEPENDENT}
    run = out.get("run")
    if isinstance(run, Mapping):
        out["run"] = {k: v for k, v in run.items() if k not in MACHINE_DEPENDENT_RUN_KEYS}
    return out
