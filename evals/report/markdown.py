"""Write an evaluation run to disk: metrics.json, report.md and the PNG plots it embeds.

Plots are drawn on `matplotlib.figure.Figure` with the Agg canvas directly, so no
pyplot state or display backend is involved and reports can be written from servers
and threads.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.gate import GateResult, flatten

Confusion = tuple[Sequence[str], Sequence[Sequence[int]]]

MAX_CELL_CHARS = 160
MAX_BARS = 40
ANNOTATE_CONFUSION_UP_TO = 20  # beyond this many labels the cell numbers are unreadable


# --- plotting ----------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _plot_confusion(path: Path, labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> None:
    n = len(labels)
    side = min(max(4.0, 0.45 * n + 2.0), 30.0)
    fig = _figure(side, side)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(n), labels=labels, rotation=90, fontsize=8)
    ax.set_yticks(range(n), labels=labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix")
    if n <= ANNOTATE_CONFUSION_UP_TO:
        peak = max((max(row, default=0) for row in matrix), default=0)
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                colour = "white" if peak and value > peak / 2 else "black"
                ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=colour)
    fig.savefig(path, dpi=100)


def _plot_reliability(path: Path, bins: Sequence[Mapping[str, Any]]) -> None:
    """Confidence against how often drafts really answered, per confidence bin."""
    fig = _figure(4.5, 4.5)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    xs = [float(b["confidence"]) for b in bins]
    ys = [float(b["observed"]) for b in bins]
    sizes = [20 + 6 * int(b["n"]) for b in bins]
    ax.plot(xs, ys, color="tab:blue", linewidth=1)
    ax.scatter(xs, ys, s=sizes, color="tab:blue", label="drafts (size = count)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("draft confidence")
    ax.set_ylabel("share that answers")
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(path, dpi=100)


def _comparable(current: Mapping[str, float], baseline: Mapping[str, float]) -> list[str]:
    # Only unit-interval scores share one axis; counts and latencies would flatten the bars.
    def unit(value: float | None) -> bool:
        return value is None or 0.0 <= value <= 1.0

    keys = [k for k, v in current.items() if unit(v) and unit(baseline.get(k))]
    return sorted(keys)[:MAX_BARS]


def _plot_bars(
    path: Path, keys: Sequence[str], current: Mapping[str, float], baseline: Mapping[str, float]
) -> None:
    import numpy as np

    fig = _figure(9.0, max(3.0, 0.32 * len(keys) + 1.5))
    ax = fig.add_subplot()
    y = np.arange(len(keys))
    height = 0.4
    ax.barh(y - height / 2, [current[k] for k in keys], height, label="current")
    base = [baseline.get(k, math.nan) for k in keys]
    ax.barh(y + height / 2, base, height, label="baseline", color="tab:gray")
    ax.set_yticks(y, labels=keys, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.0)
    ax.set_title("Current vs baseline")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100)


def _plot_histogram(path: Path, name: str, values: Sequence[float]) -> None:
    fig = _figure(6.0, 3.5)
    ax = fig.add_subplot()
    finite = [v for v in values if math.isfinite(v)]
    unit = all(0.0 <= v <= 1.0 for v in finite)
    ax.hist(finite, bins=20, range=(0.0, 1.0) if unit else None, color="tab:blue")
    ax.set_title(f"{name} (n={len(finite)})")
    ax.set_xlabel("score")
    ax.set_ylabel("items")
    fig.savefig(path, dpi=100)


# --- markdown ----------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "metric"


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) >= 1:
        return str(int(value))
    return f"{value:.4f}"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, list | tuple):
        text = "<br>".join(_cell(v) for v in value)
    else:
        text = " ".join(str(value).split())
    text = text.replace("|", "\\|")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _metrics_section(
    current: Mapping[str, float], baseline: Mapping[str, float] | None
) -> list[str]:
    if baseline is None:
        return _table(["metric", "value"], [[k, _num(v)] for k, v in sorted(current.items())])
    rows = []
    for key in sorted(current.keys() | baseline.keys()):
        c, b = current.get(key), baseline.get(key)
        delta = c - b if c is not None and b is not None else None
        rows.append([key, _num(c), _num(b), _num(delta) if delta is None else f"{delta:+.4f}"])
    return _table(["metric", "current", "baseline", "delta"], rows)


def _gate_section(gate: GateResult) -> list[str]:
    verdict = "PASSED" if gate.passed else f"FAILED ({len(gate.failures)} metric(s))"
    lines = [f"**Gate: {verdict}**", ""]
    # Failures first: they are what a reviewer opens the report for.
    ordered = sorted(gate.rows, key=lambda r: (r.ok, r.metric))
    rows = [
        [
            "ok" if r.ok else "**FAIL**",
            r.metric,
            _num(r.baseline),
            _num(r.current),
            "–" if r.delta is None else f"{r.delta:+.4f}",
            _num(r.tolerance) if r.tolerance else "0",
            r.direction,
        ]
        for r in ordered
    ]
    return lines + _table(
        ["status", "metric", "baseline", "current", "delta", "tolerance", "direction"], rows
    )


def _examples_section(examples: Sequence[Mapping[str, Any]]) -> list[str]:
    # Columns are the union of the examples' keys; `id` first, sources last, since the
    # retrieved sources are what explains most bad answers.
    columns: list[str] = []
    for example in examples:
        columns += [k for k in example if k not in columns]
    source_keys = [c for c in columns if c in ("sources", "retrieved", "retrieved_sources")]
    head = [c for c in ("id",) if c in columns]
    columns = head + [c for c in columns if c not in head and c not in source_keys] + source_keys
    rows = [[_cell(example.get(c)) for c in columns] for example in examples]
    return _table(columns, rows)


def json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; null reads as "not measured"
    return value


# --- entry point -------------------------------------------------------------


def write_report(
    out_dir: Path | str,
    metrics: Mapping[str, Any],
    *,
    baseline: Mapping[str, Any] | None = None,
    gate: GateResult | None = None,
    confusion: Confusion | None = None,
    score_distributions: Mapping[str, Sequence[float]] | None = None,
    worst_examples: Sequence[Mapping[str, Any]] = (),
    title: str = "Evaluation report",
) -> Path:
    """Write metrics.json, report.md and PNG plots into `out_dir`; return report.md's path.

    `metrics.json` holds `metrics` unchanged (NaN as null), so it can serve as the next
    run's baseline.  `worst_examples` are rendered as a table with one column per key;
    a `sources` (or `retrieved`) list is shown last, one source per line.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(
        json.dumps(json_safe(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    current = flatten(metrics)
    base = flatten(baseline) if baseline is not None else None

    lines = [f"# {title}", ""]
    if gate is not None:
        lines += [*_gate_section(gate), ""]
    lines += ["## Metrics", "", *_metrics_section(current, base), ""]

    keys = _comparable(current, base or {})
    if keys:
        _plot_bars(out / "metrics_vs_baseline.png", keys, current, base or {})
        caption = "Current vs baseline" if base is not None else "Current scores"
        lines += [f"![{caption}](metrics_vs_baseline.png)", ""]

    if confusion is not None:
        labels, matrix = confusion
        _plot_confusion(out / "confusion_matrix.png", labels, matrix)
        lines += ["## Confusion matrix", "", "![Confusion matrix](confusion_matrix.png)", ""]

    calibration = metrics.get("usefulness", {}).get("calibration", {})
    if calibration.get("bins"):
        _plot_reliability(out / "reliability.png", calibration["bins"])
        lines += [
            "## Confidence reliability",
            "",
            f"Expected calibration error: {_num(calibration.get('ece'))} "
            f"over {calibration.get('n')} drafts.",
            "",
            "![Reliability diagram](reliability.png)",
            "",
        ]

    graded = metrics.get("graded", {})
    if graded.get("calibration", {}).get("bins"):
        _plot_reliability(out / "graded_reliability.png", graded["calibration"]["bins"])
        lines += [
            "## Confidence against blind grades",
            "",
            f"{graded['matched']} drafts unchanged since a reader graded them; "
            f"{_num(graded.get('answers_rate'))} of them answer. Expected calibration error "
            f"{_num(graded['calibration'].get('ece'))}; the automatic reading agrees with the "
            f"reader on {_num(graded.get('automatic_agreement'))}.",
            "",
            "![Reliability against blind grades](graded_reliability.png)",
            "",
        ]

    distributions = {k: v for k, v in (score_distributions or {}).items() if v}
    if distributions:
        lines += ["## Score distributions", ""]
        used: set[str] = set()
        for name, values in sorted(distributions.items()):
            stem = _slug(name)
            while stem in used:  # "rouge-l" and "rouge_l" would share a file otherwise
                stem += "_"
            used.add(stem)
            filename = f"hist_{stem}.png"
            _plot_histogram(out / filename, name, values)
            lines += [f"![{name}]({filename})", ""]

    if worst_examples:
        lines += ["## Worst examples", "", *_examples_section(worst_examples), ""]

    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
