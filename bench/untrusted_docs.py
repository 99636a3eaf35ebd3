"""Passage screener over the real corpora: every flag it raises, and the counts.

Loads and chunks each corpus exactly as `triage ingest` does (same loaders, chunker,
chunking settings and screener; nothing embedded), then prints one line per flagged
chunk (source:line, reasons, evidence) and per corpus: documents, chunks, flagged chunks.
Run from the repo root: `python bench/untrusted_docs.py [ROOT...]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import SHARED_DATA, print_table

from app.settings import Settings
from ingest.screening import scan_corpus
from ingest.untrusted import fold

CORPORA = [SHARED_DATA / name for name in ("corpus_grid", "corpus_stellar", "corpus_btcpay")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("roots", nargs="*", type=Path, default=CORPORA)
    parser.add_argument("--quiet", action="store_true", help="Counts only.")
    args = parser.parse_args()
    s = Settings()
    rows = []
    for root in args.roots:
        started = time.perf_counter()
        result = scan_corpus(
            root,
            exclude=s.ingest_exclude,
            use_manifest=s.use_manifest,
            max_tokens=s.chunk_tokens,
            overlap_tokens=s.chunk_overlap_tokens,
            min_tokens=s.chunk_min_tokens,
            extras=s.untrusted_allowed_domains,
            max_bytes=s.ingest_max_file_bytes,
        )
        seconds = time.perf_counter() - started
        if not args.quiet:
            for row in result.flagged:
                evidence = " ".join(fold(row["evidence"])[0].split())[:160]
                print(
                    f"{root.name}/{row['source']}:{row['line']}  {','.join(row['reasons'])}  "
                    f"{evidence!r}"
                )
        rows.append(
            (
                root.name,
                f"{result.docs} docs, {result.chunks} chunks, {len(result.flagged)} flagged "
                f"(load+chunk+screen {seconds:.1f}s)",
            )
        )
    print_table("untrusted passages", rows)


if __name__ == "__main__":
    main()
