"""A documentation tree's chunks, as the sync would store them, without embedding them.

The lexical index needs texts and metadata only: benchmarks that build large indexes
(bench/scale.py) and the ranking-parity tests read real corpora through this.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.chunk_writer import chunk_id
from ingest.chunking import chunk_markdown
from ingest.discovery import discover
from ingest.loaders import load_file
from ingest.types import LoadError, sha256_hex
from ingest.vectorstore import StoredChunk


def corpus_chunks(root: Path, exclude: Sequence[str] = ()) -> Iterator[StoredChunk]:
    found = discover(root, exclude=exclude, use_manifest=True)
    for path in found.files:
        rel = path.relative_to(root).as_posix()
        try:
            docs = load_file(path, root, max_bytes=20 << 20, manifest_row=found.manifest.get(rel))
        except LoadError:
            continue
        for doc in docs:
            for chunk in chunk_markdown(doc.doc_id, doc.text):
                text_hash = sha256_hex(chunk.embed_text(doc.title))
                meta: dict[str, str | int] = {
                    "doc_id": doc.doc_id,
                    "source": doc.source,
                    "title": doc.title,
                    "kind": doc.kind,
                    "heading": chunk.heading,
                    "chunk_index": chunk.index,
                    "text_hash": text_hash,
                }
                if chunk.anchor:
                    meta["anchor"] = chunk.anchor
                yield StoredChunk(chunk_id(doc.doc_id, chunk.index, text_hash), chunk.text, meta)
