"""Dense candidates read as ids from Chroma and rows from the lexical segments give what
reading them from Chroma gave, filters included, and nothing is lost when the segments
lag behind Chroma."""

from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from ingest.dense_rows import dense_candidates, locate
from ingest.lexical_store import LexicalStore, SegmentedIndex
from ingest.search_filters import SearchFilters
from ingest.vectorstore import KnowledgeBaseStore

ROWS = [
    ("docs/guides/quotes#0-aaaaaaaaaaaa", [1.0, 0.0, 0.0], "Quotes lock a rate.", "guide"),
    ("docs/guides/quotes#1-bbbbbbbbbbbb", [0.9, 0.1, 0.0], "Execute a quote.", "guide"),
    ("docs/api/quotes#0-cccccccccccc", [0.8, 0.2, 0.0], "POST /quotes creates one.", "api"),
    ("docs/api/cards#0-dddddddddddd", [0.0, 1.0, 0.0], "PATCH /cards/{id}.", "api"),
]


def _store(tmp_path: Path) -> KnowledgeBaseStore:
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = KnowledgeBaseStore(client, "docs", model_name="test", dimension=3)
    store.upsert(
        [r[0] for r in ROWS],
        [r[1] for r in ROWS],
        [r[2] for r in ROWS],
        [
            {
                "doc_id": r[0].split("#")[0],
                "chunk_index": int(r[0].split("#")[1].split("-")[0]),
                "kind": r[3],
                "source": f"{r[0].split('#')[0]}.md",
            }
            for r in ROWS
        ],
    )
    store.bump_revision()
    return store


def _index(store: KnowledgeBaseStore, tmp_path: Path) -> SegmentedIndex:
    lexical = LexicalStore(tmp_path / "lexical", heading_repeats=1)
    return lexical.open(store.revision(), store.identity(), store.all_chunks)


def test_rows_from_the_segments_equal_rows_from_chroma(tmp_path: Path) -> None:
    store = _store(tmp_path)
    index = _index(store, tmp_path)
    assert all(locate(index, r[0]) is not None for r in ROWS)
    for filters in (
        SearchFilters(),
        SearchFilters(kinds=("api",)),
        SearchFilters(source_prefix="docs/guides"),
    ):
        from_chroma = [
            (c, s) for c, s in store.query([1.0, 0.0, 0.0], 4) if filters.accepts(c.metadata)
        ]
        ranked = store.query_ids([1.0, 0.0, 0.0], 4)
        got = dense_candidates(index, ranked, filters, store.chunks_by_id)
        assert [(c.chunk_id, c.text, dict(c.metadata), round(s, 6)) for c, s in got] == [
            (c.chunk_id, c.text, dict(c.metadata), round(s, 6)) for c, s in from_chroma
        ]


def test_a_chunk_the_segments_do_not_hold_yet_is_read_from_chroma(tmp_path: Path) -> None:
    store = _store(tmp_path)
    index = _index(store, tmp_path)
    late = "docs/guides/fx#0-eeeeeeeeeeee"  # written by another process after the index
    store.upsert(
        [late],
        [[0.95, 0.05, 0.0]],
        ["FX rates move."],
        [{"doc_id": "docs/guides/fx", "kind": "guide"}],
    )
    assert locate(index, late) is None
    got = dense_candidates(
        index, store.query_ids([1.0, 0.0, 0.0], 3), SearchFilters(), store.chunks_by_id
    )
    assert [c.chunk_id for c, _ in got] == [ROWS[0][0], late, ROWS[1][0]]
    assert got[1][0].text == "FX rates move."


def test_an_id_that_is_nowhere_is_skipped(tmp_path: Path) -> None:
    store = _store(tmp_path)
    index = _index(store, tmp_path)
    ranked = [("docs/gone#0-ffffffffffff", 0.99), (ROWS[0][0], 0.98), ("not-a-chunk-id", 0.5)]
    got = dense_candidates(index, ranked, SearchFilters(), store.chunks_by_id)
    assert [c.chunk_id for c, _ in got] == [ROWS[0][0]]


def test_segments_written_before_the_id_column_still_locate_rows(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _index(store, tmp_path)
    for column in (tmp_path / "lexical").rglob("id_*.npy"):
        column.unlink()  # as an index written by the previous release
    index = _index(store, tmp_path)
    assert all(s.rows_for_id(ROWS[0][0]) is None for s in index.segments)
    for chunk_id, *_ in ROWS:
        found = locate(index, chunk_id)
        assert found is not None
        segment, row = found
        assert segment.chunk(row).chunk_id == chunk_id
