"""What a collection already holds, per document, read back from its chunks' metadata.

Chroma is the only state (see ingest/sync.py): every chunk carries its document's
content hash, its file's hash, how many chunks the document has and how many documents
the file produced, so these records are rebuilt from metadata at the start of each run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ingest.vectorstore import KnowledgeBaseStore


@dataclass
class DocState:
    """One stored document: its chunks' metadata by chunk id, and what they agree on."""

    metas: dict[str, dict[str, Any]] = field(default_factory=dict)
    doc_hashes: set[str] = field(default_factory=set)
    n_chunks: int = -1
    file_hash: str = ""
    file_docs: int = -1
    source: str = ""
    chunking: str = ""  # the chunker version and settings its chunks were cut with

    @property
    def ids(self) -> set[str]:
        return set(self.metas)

    @property
    def complete(self) -> bool:
        return len(self.doc_hashes) == 1 and len(self.metas) == self.n_chunks


def load_doc_states(store: KnowledgeBaseStore, root_key: str) -> dict[str, DocState]:
    """The documents stored for one ingested root, by doc id."""
    state: dict[str, DocState] = defaultdict(DocState)
    for cid, meta in store.all_metadata(where={"root": root_key}):
        doc_state = state[str(meta["doc_id"])]
        doc_state.metas[cid] = dict(meta)
        doc_state.doc_hashes.add(str(meta.get("doc_hash", "")))
        doc_state.n_chunks = int(meta.get("n_chunks", -1))
        doc_state.file_hash = str(meta.get("file_hash", ""))
        doc_state.file_docs = int(meta.get("file_docs", -1))
        doc_state.source = str(meta.get("source", ""))
        doc_state.chunking = str(meta.get("chunking", ""))
    return dict(state)


def text_hash_index(store: KnowledgeBaseStore) -> dict[str, str]:
    """Embedded-text hash -> one chunk id holding that embedding, across every root."""
    index: dict[str, str] = {}
    for cid, meta in store.all_metadata():
        text_hash = meta.get("text_hash")
        if isinstance(text_hash, str):
            index.setdefault(text_hash, cid)
    return index
