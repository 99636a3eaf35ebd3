"""Triage accuracy per labelled file: category, priority, P1 recall/precision, language.

Runs only the triage half of the pipeline (secret redaction, injection screen, signals,
offline category classifier, priority rules, language), the same code `pipeline.run`
calls, without retrieval or drafting, so a file of 100 messages takes seconds.

    python bench/triage_accuracy.py evals/datasets/grid_dev.jsonl evals/datasets/grid_dev_b.jsonl
    python bench/triage_accuracy.py FILE --errors    # also list every wrong row (not on held-out!)

The classifier is trained from the taxonomy's examples into a temporary directory, as the
service does on first use.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import print_table

from app.knowledge import build_embeddings
from app.settings import Settings
from app.triage.classify.categorize import CategoryClassifier
from app.triage.classify.taxonomy import Taxonomy, load_taxonomy
from app.triage.pipeline import TriagePipeline, prose_for_classification
from app.triage.results import TriageResult
from app.triage.screen.injection import detect_injection
from app.triage.screen.language import LanguageDetector
from app.triage.screen.secrets import redact_secrets
from app.triage.screen.signals import extract_signals
from evals.datasets.loader import EvalItem, load_jsonl
from evals.score.classification import classification_report


def _triage(pipeline: TriagePipeline, message: str) -> TriageResult:
    # The same steps, in the same order, as TriagePipeline.run before retrieval.
    redaction = redact_secrets(message)
    text = redaction.text
    signals = extract_signals(text, pipeline.known_error_codes)
    return pipeline._triage(
        text,
        signals,
        redaction.production_credential,
        bool(redaction.redactions),
        detect_injection(text).flagged,
        redaction.recovery_phrase,
    )


def _ratio(hits: int, total: int) -> str:
    return f"{hits / total:.3f} ({hits}/{total})" if total else "n/a"


def score_file(pipeline: TriagePipeline, items: list[EvalItem], errors: bool) -> dict[str, Any]:
    results: list[TriageResult] = []
    latency: list[float] = []
    for item in items:
        t0 = time.perf_counter()
        results.append(_triage(pipeline, item.message))
        latency.append((time.perf_counter() - t0) * 1000)
    cats = [(i.category or "", r.category) for i, r in zip(items, results, strict=True)]
    pris = [(i.priority or "", r.priority) for i, r in zip(items, results, strict=True)]
    report = classification_report([t for t, _ in cats], [p for _, p in cats])
    true_p1 = sum(t == "P1" for t, _ in pris)
    pred_p1 = sum(p == "P1" for _, p in pris)
    both_p1 = sum(t == p == "P1" for t, p in pris)
    langs = [(i.language, r.language) for i, r in zip(items, results, strict=True) if i.language]
    figures: dict[str, Any] = {
        "rows": len(items),
        "category_accuracy": _ratio(sum(t == p for t, p in cats), len(cats)),
        "category_macro_f1": f"{report.macro_f1:.3f}",
        "priority_accuracy": _ratio(sum(t == p for t, p in pris), len(pris)),
        "p1_recall": _ratio(both_p1, true_p1),
        "p1_precision": _ratio(both_p1, pred_p1),
        "priority_off_by_more_than_one": sum(abs(int(t[1]) - int(p[1])) > 1 for t, p in pris if t),
        "language_accuracy": _ratio(sum(t == p for t, p in langs), len(langs)),
        "triage_p50_ms": round(statistics.median(latency), 1),
    }
    if errors:
        confusions = Counter(f"{t}->{p}" for t, p in cats if t != p)
        print("  category confusions:", dict(confusions.most_common()))
        for item, result in zip(items, results, strict=True):
            wrong = []
            if item.category != result.category:
                wrong.append(f"cat {item.category}->{result.category}")
            if item.priority != result.priority:
                wrong.append(f"pri {item.priority}->{result.priority}")
            if item.language and item.language != result.language:
                wrong.append(f"lang {item.language}->{result.language}")
            if wrong:
                print(f"  {item.id}: {'; '.join(wrong)} | {result.priority_reasons[1:]}")
                print(f"      {item.message[:160]!r}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--errors", action="store_true", help="list every wrong row")
    parser.add_argument("--taxonomy", type=Path, default=None, help="instead of the built-in")
    parser.add_argument(
        "--train-on",
        type=Path,
        action="append",
        default=[],
        help="labelled file whose messages join the taxonomy's examples (repeatable); "
        "for cross-file checks: never score a file that is also trained on",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), taxonomy_path=args.taxonomy)
        taxonomy = _with_examples(load_taxonomy(settings.taxonomy_path), args.train_on)
        embeddings = build_embeddings(settings)
        classifier = CategoryClassifier(
            taxonomy,
            embeddings,
            cache_dir=Path(tmp) / "models",
            model_name=embeddings.model_name,
        )
        pipeline = TriagePipeline(
            taxonomy=taxonomy,
            retriever=None,  # type: ignore[arg-type]  # triage never retrieves
            classifier=classifier,
            drafter=None,  # type: ignore[arg-type]
            offline_drafter=None,  # type: ignore[arg-type]
            language=LanguageDetector(),
            known_error_codes=_known_codes(settings),
        )
        _triage(pipeline, "How do I authenticate API requests?")  # warm-up: trains, loads
        for path in args.files:
            print(f"\n## {path}")
            figures = score_file(pipeline, load_jsonl(path), args.errors)
            print_table(
                f"bench/triage_accuracy.py {path.name}", [(k, str(v)) for k, v in figures.items()]
            )


def _with_examples(taxonomy: Taxonomy, files: list[Path]) -> Taxonomy:
    data = taxonomy.model_dump()
    for path in files:
        for item in load_jsonl(path):
            if item.category in data["categories"]:
                data["categories"][item.category]["examples"].append(
                    prose_for_classification(item.message)
                )
    return Taxonomy.model_validate(data)


def _known_codes(settings: Settings) -> frozenset[str]:
    from _common import GRID

    from app.services.pipelines import known_error_codes

    return known_error_codes([*settings.openapi_specs, GRID / "openapi.yaml"])


if __name__ == "__main__":
    main()
