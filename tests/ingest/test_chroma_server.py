"""The same sync and search against a real `chroma run` server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.embeddings import CountingEmbeddings
from ingest.retrieval import HybridRetriever
from ingest.sync import Synchronizer
from ingest.vectorstore import KnowledgeBaseStore, make_chroma_client
from tests.chroma_server import chroma_server_at


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server_at(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


def test_sync_and_search_through_the_server(
    chroma_server: str, grid_sample: Path, minilm: Any
) -> None:
    client = make_chroma_client(chroma_url=chroma_server, persist_path="unused")
    store = KnowledgeBaseStore(client, "docs-server", model_name="all-MiniLM-L6-v2", dimension=384)
    emb = CountingEmbeddings(minilm, model_name="all-MiniLM-L6-v2", dimension=384)
    first = Synchronizer(store, emb).sync([grid_sample])
    assert first.docs_added > 0
    assert store.count() == first.chunks_written

    # A second process would see the same collection: a fresh client stands in for it.
    other = KnowledgeBaseStore(
        make_chroma_client(chroma_url=chroma_server, persist_path="unused"),
        "docs-server",
        model_name="all-MiniLM-L6-v2",
        dimension=384,
    )
    again = Synchronizer(other, emb).sync([grid_sample])
    assert again.embeddings_computed == 0
    assert again.docs_unchanged == first.docs_added
    hits = HybridRetriever(other, emb, refresh_seconds=0).search(
        "how do I authenticate with client id and secret", 3
    )
    assert hits
    assert hits[0].doc_id == "docs/guides/api-reference/authentication"


def test_bad_server_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        make_chroma_client(chroma_url="chroma.example:8000", persist_path="unused")
