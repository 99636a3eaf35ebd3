"""The gate room: compare a run's metrics with a baseline under per-metric tolerances.

Metrics are flat dotted keys (`retrieval.hit@5`).  The tolerance file
`evals/tolerances.yaml` is the one source of every metric's tolerance and direction: it
maps metric names or fnmatch globs to a rule, either a bare number (an absolute
tolerance, higher is better) or a mapping with `tolerance` and `direction`.  An exact
name wins over globs; among globs the last match in file order wins (as in .gitignore),
so general patterns go first and exceptions after them.

Baselines are committed metrics files (`evals/baselines/`); `baseline_of` says what of a
run goes into one.  Latency and wall time measure the machine as much as the code: a
baseline recorded on a laptop would fail (or trivially pass) on a loaded CI runner, so
they are left out and the gate compares only what the code decides; a baseline recorded
on the gating machine itself (its `metrics.json`) still gates latency.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal, cast

import yaml

Direction = Literal["higher_is_better", "lower_is_better", "info"]
DIRECTIONS: tuple[Direction, ...] = ("higher_is_better", "lower_is_better", "info")
DEFAULT_TOLERANCES_PATH = Path(__file__).with_name("tolerances.yaml")
_FLOAT_SLACK = 1e-9
MACHINE_DEPENDENT = ("latency",)
MACHINE_DEPENDENT_RUN_KEYS = ("seconds",)


@dataclass(frozen=True)
class Rule:
    tolerance: float
    direction: Direction


@dataclass(frozen=True)
class GateRow:
    metric: str
    baseline: float | None  # None: the metric is new in this run
    current: float | None  # None: the run no longer reports it, which fails the gate
    delta: float | None  # current - baseline
    tolerance: float
    direction: Direction
    ok: bool


@dataclass(frozen=True)
class GateResult:
    passed: bool
    rows: list[GateRow]

    @property
    def failures(self) -> list[GateRow]:
        return [row for row in self.rows if not row.ok]


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested metric mappings to `{"a.b.c": value}`, keeping only numbers.

    Strings, lists, None and booleans are dropped: they are labels or flags, not
    quantities a gate can compare.  Already-flat mappings pass through unchanged.
    """
    flat: dict[str, float] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def _rule(raw: object, where: str, fallback_direction: Direction) -> Rule:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Rule(float(raw), fallback_direction)
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"tolerance", "direction"}
        if unknown:
            raise ValueError(f"tolerances: {where}: unknown key(s) {sorted(unknown)}")
        direction = raw.get("direction", fallback_direction)
        if direction not in DIRECTIONS:
            raise ValueError(f"tolerances: {where}: direction must be one of {DIRECTIONS}")
        tolerance = raw.get("tolerance", 0.0)
        if not isinstance(tolerance, int | float) or isinstance(tolerance, bool) or tolerance < 0:
            raise ValueError(f"tolerances: {where}: tolerance must be a number >= 0")
        return Rule(float(tolerance), cast(Direction, direction))
    raise ValueError(f"tolerances: {where}: expected a number or a mapping, got {raw!r}")


def parse_tolerances(spec: Mapping[str, Any]) -> tuple[Rule, dict[str, Rule]]:
    """Validate a tolerance spec: `{default: <rule>, metrics: {<name or glob>: <rule>}}`."""
    unknown = set(spec) - {"default", "metrics"}
    if unknown:
        raise ValueError(f"tolerances: unknown top-level key(s) {sorted(unknown)}")
    default = _rule(spec.get("default", 0.0), "default", "higher_is_better")
    metrics = spec.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        raise ValueError("tolerances: `metrics` must be a mapping")
    # A bare number under `metrics` keeps the default's direction.
    rules = {str(k): _rule(v, str(k), default.direction) for k, v in metrics.items()}
    return default, rules


def load_tolerances(path: Path | str = DEFAULT_TOLERANCES_PATH) -> dict[str, Any]:
    """A tolerance file, validated; raises OSError when unreadable, ValueError when bad."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    parse_tolerances(data)  # fail on a bad file when it is loaded, not mid-comparison
    return data


def rule_for(metric: str, default: Rule, rules: Mapping[str, Rule]) -> Rule:
    if metric in rules:
        return rules[metric]
    matches = [pattern for pattern in rules if fnmatchcase(metric, pattern)]
    return rules[matches[-1]] if matches else default


def _ok(baseline: float, current: float, rule: Rule) -> bool:
    if rule.direction == "info" or math.isnan(baseline):
        return True
    if math.isnan(current):
        return False
    # The slack keeps float noise (0.52 - 0.02 = 0.5000000000000001) off the boundary.
    if rule.direction == "higher_is_better":
        return current >= baseline - rule.tolerance - _FLOAT_SLACK
    return current <= baseline + rule.tolerance + _FLOAT_SLACK


def compare(
    current: Mapping[str, Any], baseline: Mapping[str, Any], tolerances: Mapping[str, Any]
) -> GateResult:
    """Gate `current` against `baseline`; both may be nested or flat.

    A metric the baseline has but the run lacks fails (a silently dropped metric must
    not pass); a metric only the run has passes, so adding metrics never breaks the gate.
    """
    default, rules = parse_tolerances(tolerances)
    cur, base = flatten(current), flatten(baseline)
    rows = []
    for metric in sorted(base.keys() | cur.keys()):
        rule = rule_for(metric, default, rules)
        b, c = base.get(metric), cur.get(metric)
        if b is None:
            ok, delta = True, None
        elif c is None:
            ok, delta = rule.direction == "info", None
        else:
            ok, delta = _ok(b, c, rule), c - b
        rows.append(GateRow(metric, b, c, delta, rule.tolerance, rule.direction, ok))
    return GateResult(passed=all(row.ok for row in rows), rows=rows)


# --- baselines -----------------------------------------------------------------------


def read_baseline(path: Path) -> dict[str, Any]:
    """A baseline metrics file; ValueError with a one-line reason when it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"baseline {path} is not JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"baseline {path} must hold a JSON object of metrics")
    return data


def baseline_of(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """What of a run goes into a committed baseline: all but the machine's timings."""
    out = {k: v for k, v in metrics.items() if k not in MACHINE_DEPENDENT}
    run = out.get("run")
    if isinstance(run, Mapping):
        out["run"] = {k: v for k, v in run.items() if k not in MACHINE_DEPENDENT_RUN_KEYS}
    return out
