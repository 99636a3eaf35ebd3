"""Passage screener over the real corpora: every flag it raises, and the counts.

Loads and chunks each corpus exactly as `triage ingest` does (same loaders, chunker,
chunking settings and screener; no embedding), then prints one line per flagged chunk
(source:line, reasons, evidence) and per corpus: documents, chunks, flagged chunks.
Run from the repo root: `python bench/untrusted_docs.py [ROOT...]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import SHARED_DATA, print_table

from app.settings import Settings
from ingest.chunking import chunk_markdown
from ingest.discovery import discover
from ingest.loaders import load_file
from ingest.screening import flag_chunks, screener_for_files
from ingest.types import LoadError
from ingest.untrusted import fold

CORPORA = [SHARED_DATA / name for name in ("corpus_grid", "corpus_stellar", "corpus_btcpay")]


def scan(root: Path, settings: Settings, verbose: bool) -> tuple[int, int, int, float]:
    found = discover(root, exclude=settings.ingest_exclude, use_manifest=settings.use_manifest)
    started = time.perf_counter()
    screener = screener_for_files(found.files, found.manifest, settings.untrusted_allowed_domains)
    docs = chunks = flagged = 0
    for path in found.files:
        rel = path.relative_to(root).as_posix()
        try:
            loaded = load_file(
                path,
                root,
                max_bytes=settings.ingest_max_file_bytes,
                manifest_row=found.manifest.get(rel),
            )
        except LoadError:
            continue
        raw = path.read_text("utf-8", errors="replace")
        for doc in loaded:
            docs += 1
            pieces = chunk_markdown(
                doc.doc_id,
                doc.text,
                max_tokens=settings.chunk_tokens,
                overlap_tokens=settings.chunk_overlap_tokens,
                min_tokens=settings.chunk_min_tokens,
            )
            chunks += len(pieces)
            for piece, flag in zip(
                pieces, flag_chunks(screener, raw, [p.text for p in pieces]), strict=True
            ):
                if flag is None:
                    continue
                flagged += 1
                if verbose:
                    own = screener.screen(piece.text)
                    evidence = own.findings[0].evidence if own.flagged else "(hidden markup)"
                    print(
                        f"{root.name}/{rel}:{flag.line}  {','.join(flag.reasons)}  "
                        f"{' '.join(fold(evidence)[0].split())[:160]!r}"
                    )
    return docs, chunks, flagged, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("roots", nargs="*", type=Path, default=CORPORA)
    parser.add_argument("--quiet", action="store_true", help="Counts only.")
    args = parser.parse_args()
    settings = Settings()
    rows = []
    for root in args.roots:
        docs, chunks, flagged, seconds = scan(root.resolve(), settings, not args.quiet)
        rows.append(
            (
                root.name,
                f"{docs} docs, {chunks} chunks, {flagged} flagged "
                f"(load+chunk+screen {seconds:.1f}s)",
            )
        )
    print_table("untrusted passages", rows)


if __name__ == "__main__":
    main()
