"""Secret redaction on the labelled corpus: recall, false positives and throughput.

    python bench/redaction.py [--repeat N]

Rows: tests/fixtures/redaction/secrets.jsonl (fake secrets; a row counts as recalled when
none of its secret substrings survives) and clean.jsonl (support messages plus Grid doc
paragraphs read from the shared data; a row is a false positive when anything in it is
redacted).  Throughput is measured over all rows, after one warm-up pass (the first call
loads detect-secrets and the word lists).
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import GRID, print_table

from app.triage.screen.secrets import redact_secrets
from tests.fixtures.redaction.corpus import clean_rows, secret_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timing passes over the corpus")
    args = parser.parse_args()

    secrets = secret_rows()
    clean = clean_rows(GRID)
    missed = [r for r in secrets if any(s in redact_secrets(r.text).text for s in r.secrets)]
    flagged = [r for r in clean if redact_secrets(r.text).redacted]

    texts = [r.text for r in secrets] + [r.text for r in clean]
    support = [r.text for r in clean if r.source == "support"]
    per_message: list[float] = []
    started = time.perf_counter()
    for _ in range(args.repeat):
        for text in texts:
            t0 = time.perf_counter()
            redact_secrets(text)
            per_message.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    # Per support message, the median of several runs: on a shared machine a single run
    # mostly measures the scheduler.
    support_ms = []
    for text in support:
        runs = []
        for _ in range(max(args.repeat, 5)):
            t0 = time.perf_counter()
            redact_secrets(text)
            runs.append((time.perf_counter() - t0) * 1000)
        support_ms.append(statistics.median(runs))

    kinds = {r.kind for r in secrets}
    rows = [
        ("secret rows / kinds", f"{len(secrets)} / {len(kinds)}"),
        ("recall (rows fully redacted)", f"{1 - len(missed) / len(secrets):.4f}"),
        ("clean rows (support / docs)", f"{len(support)} / {len(clean) - len(support)}"),
        ("false-positive rate", f"{len(flagged) / len(clean):.4f} ({len(flagged)} rows)"),
        ("messages/s (all rows)", f"{len(per_message) / elapsed:.0f}"),
        ("p50 / p95 ms (all rows)", _percentiles([s * 1000 for s in per_message])),
        ("p50 / p95 ms (support messages, median of runs)", _percentiles(support_ms)),
    ]
    print_table("redaction", rows)
    for r in missed:
        print(f"  missed {r.id} {r.kind}")
    for c in flagged:
        print(f"  flagged {c.id} {c.source}")


def _percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20)
    return f"{statistics.median(values):.2f} / {q[18]:.2f}"


if __name__ == "__main__":
    main()
