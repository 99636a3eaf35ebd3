"""Ingest throughput on corpus_grid, against the raw embedding model in the same run.

Prints: chunks, full-ingest chunks/s, raw model texts/s (ONNX and torch) on the very
same chunk texts, their ratio (goal >= 0.90), the re-ingest of the unchanged corpus
(goal: 0 embeddings, <= 5% of the full-ingest time) and what MiniLM's 256 word-piece
window truncates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from _common import GRID, print_table

from app.knowledge import build_knowledge_base
from app.settings import Settings
from ingest.embeddings import LocalMiniLMEmbeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=GRID)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), embedding_threads=args.threads)
        kb = build_knowledge_base(settings)
        kb.embeddings.embed_query("warm-up: export and load the model before timing")

        full = kb.synchronizer().sync([args.corpus])
        again = kb.synchronizer().sync([args.corpus])

        stored = kb.store.all_chunks()
        texts = []
        for chunk in stored:
            trail = " > ".join(
                p
                for p in (
                    str(chunk.metadata.get("title", "")),
                    str(chunk.metadata.get("heading", "")),
                )
                if p
            )
            texts.append(f"{trail}\n\n{chunk.text}" if trail else chunk.text)
        unique = list(dict.fromkeys(texts))

        raw = {}
        backends = ["onnx"] if args.skip_torch else ["onnx", "torch"]
        for backend in backends:
            model = LocalMiniLMEmbeddings(
                cache_dir=settings.resolved_models_dir,
                backend=backend,  # type: ignore[arg-type]
                threads=args.threads,
            )
            model.embed_query("warm-up")
            started = time.perf_counter()
            model.embed_documents(unique)
            raw[backend] = len(unique) / (time.perf_counter() - started)

        pieces = LocalMiniLMEmbeddings(cache_dir=settings.resolved_models_dir).count_tokens(unique)
        truncated = [n for n in pieces if n > 256]
        lost = sum(n - 256 for n in truncated) / max(sum(pieces), 1)

    chunks_per_s = full.chunks_written / full.seconds
    embeds_per_s = full.embeddings_computed / full.seconds
    figures = {
        "docs": full.docs_seen,
        "docs_failed": full.docs_failed,
        "chunks": full.chunks_written,
        "unique_embedded_texts": full.embeddings_computed,
        "full_ingest_seconds": round(full.seconds, 2),
        "full_ingest_chunks_per_s": round(chunks_per_s, 1),
        "full_ingest_embeddings_per_s": round(embeds_per_s, 1),
        "raw_model_texts_per_s": {k: round(v, 1) for k, v in raw.items()},
        "ratio_ingest_embeddings_to_raw_onnx": round(embeds_per_s / raw["onnx"], 3),
        "onnx_speedup_over_torch": round(raw["onnx"] / raw["torch"], 2) if "torch" in raw else None,
        "reingest_seconds": round(again.seconds, 3),
        "reingest_embeddings": again.embeddings_computed,
        "reingest_fraction_of_full": round(again.seconds / full.seconds, 4),
        "chunk_wordpieces_median": statistics.median(pieces),
        "chunks_over_256_wordpieces": f"{len(truncated)} of {len(pieces)}",
        "wordpieces_lost_to_truncation": f"{lost:.2%}",
    }
    print_table("bench/ingest.py", [(k, json.dumps(v)) for k, v in figures.items()])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
