"""The three benchmark corpora, their question sets, and cached index builds.

Indexes live under a cache directory keyed by what changes the indexed texts
(corpus files, exclusions, chunk settings, model, INDEX_VERSION), so a rerun
reuses them and a change to chunking rebuilds them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import REPO, SHARED_DATA
from langchain_core.embeddings import Embeddings

from app.knowledge import KnowledgeBase, build_knowledge_base
from app.settings import Settings
from evals.datasets.loader import EvalItem, load_jsonl
from ingest.chunking import CHUNKER_VERSION
from ingest.discovery import discover
from ingest.types import sha256_hex

DATASETS = REPO / "evals" / "datasets"
# Bump when the ingest code changes what is chunked or embedded: indexes are keyed by
# corpus files, exclusions, chunk settings, model and this number, not by source code
# (other changes to ingest/ would otherwise force a rebuild of three corpora).
INDEX_VERSION = 1 + CHUNKER_VERSION  # 3: chunks keep the line breaks of split lists


@dataclass(frozen=True)
class Corpus:
    name: str
    root: Path
    dataset: Path
    exclude: tuple[str, ...] = ()
    canonical_only: bool = False  # keep only manifest rows marked canonical (Grid)
    translations: Path | None = None  # es/pt renderings of some dataset rows


CORPORA: dict[str, Corpus] = {
    "grid": Corpus(
        "grid",
        SHARED_DATA / "corpus_grid",
        DATASETS / "grid_dev.jsonl",
        canonical_only=True,
        translations=DATASETS / "grid_dev_es_pt.jsonl",
    ),
    # How-to questions measured without the FAQ pages, whose answers would otherwise be
    # found verbatim (the corpus README's recipe for a non-verbatim retrieval test).
    "btcpay": Corpus(
        "btcpay",
        SHARED_DATA / "corpus_btcpay",
        DATASETS / "btcpay_dev.jsonl",
        exclude=("docs/FAQ/**",),
    ),
    "stellar": Corpus("stellar", SHARED_DATA / "corpus_stellar", DATASETS / "stellar_dev.jsonl"),
}


def split_of(item: EvalItem) -> str:
    """The row's own `split`, else a fixed 40% of ids by hash (Grid's rows carry none)."""
    extra = item.model_extra or {}
    given = extra.get("split")
    if isinstance(given, str) and given:
        return given
    key = str(extra.get("source_id") or item.id)
    return "holdout" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 5 in (1, 3) else "tune"


def questions(corpus: Corpus, limit: int | None = None) -> list[EvalItem]:
    items = [i for i in load_jsonl(corpus.dataset) if i.gold_doc_ids]
    if limit is not None:
        tune = [i for i in items if split_of(i) == "tune"][:limit]
        hold = [i for i in items if split_of(i) == "holdout"][:limit]
        items = tune + hold
    return items


def translations(corpus: Corpus, keep_ids: set[str]) -> list[EvalItem]:
    if corpus.translations is None or not corpus.translations.is_file():
        return []
    rows = load_jsonl(corpus.translations)
    return [r for r in rows if (r.model_extra or {}).get("source_id") in keep_ids]


@dataclass
class Prepared:
    corpus: Corpus
    root: Path  # what gets ingested (the shared root or a filtered copy)
    exclude: tuple[str, ...]
    files: list[Path] = field(default_factory=list)

    def doc_id(self, path: Path) -> str:
        return path.relative_to(self.root).with_suffix("").as_posix()


def _manifest_rows(root: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (root / "manifest.jsonl").read_text().splitlines() if x]


def _copy_rows(src: Path, dest: Path, rows: list[dict[str, Any]]) -> Path:
    """A filtered copy (files plus manifest); rebuilt only when the selection changes."""
    manifest = "".join(json.dumps(r) + "\n" for r in rows)
    marker = dest / "manifest.jsonl"
    if marker.is_file() and marker.read_text() == manifest:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    for row in rows:
        target = dest / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / row["path"], target)
    marker.write_text(manifest)
    return dest


def prepare(
    corpus: Corpus,
    cache: Path,
    *,
    extra_exclude: tuple[str, ...] = (),
    keep_docs: set[str] | None = None,
    distractors: int = 0,
) -> Prepared:
    """The files to index: canonical pages for Grid, or a small subset for smoke runs.

    `keep_docs` (doc ids) plus the first `distractors` other pages give a tiny corpus
    that still has wrong answers to rank below the right ones.
    """
    exclude = corpus.exclude + extra_exclude
    rows = _manifest_rows(corpus.root)
    if corpus.canonical_only:
        rows = [r for r in rows if r.get("canonical")]
    root = corpus.root
    if keep_docs is not None:
        found = {p.relative_to(corpus.root).as_posix() for p in _discover(corpus.root, exclude)}
        rows = [r for r in rows if r["path"] in found]
        wanted = [r for r in rows if str(Path(r["path"]).with_suffix("")) in keep_docs]
        others = [r for r in rows if r not in wanted]
        step = max(len(others) // max(distractors, 1), 1)
        rows = wanted + others[::step][:distractors]
        root = _copy_rows(corpus.root, cache / f"{corpus.name}-subset-{_digest(rows)}", rows)
    elif corpus.canonical_only:
        root = _copy_rows(corpus.root, cache / f"{corpus.name}-canonical", rows)
    prepared = Prepared(corpus, root, exclude)
    prepared.files = _discover(root, exclude)
    return prepared


def _discover(root: Path, exclude: tuple[str, ...]) -> list[Path]:
    return discover(root, exclude=list(exclude), use_manifest=True).files


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def settings_for(prepared: Prepared, cache: Path, **overrides: Any) -> Settings:
    base = Settings(models_dir=cache / "models", embedding_provider="local", **overrides)
    key = _digest(
        {
            "root": str(prepared.root),
            "files": [str(f) for f in prepared.files],
            "exclude": prepared.exclude,
            "chunking": [base.chunk_tokens, base.chunk_overlap_tokens, base.chunk_min_tokens],
            "model": base.resolved_embedding_model,
            "version": INDEX_VERSION,
        }
    )
    return base.model_copy(
        update={
            "data_dir": cache / f"{prepared.corpus.name}-{key}",
            "ingest_exclude": [*base.ingest_exclude, *prepared.exclude],
        }
    )


def baseline_dir(prepared: Prepared, cache: Path) -> Path:
    """The naive baseline depends on the files only, not on the project's ingest code."""
    key = _digest({"root": str(prepared.root), "files": [str(f) for f in prepared.files]})
    return cache / f"{prepared.corpus.name}-baseline-{key}"


class SeededEmbeddings(Embeddings):
    """Vectors already computed elsewhere (same model, same text) are reused, not recomputed.

    Index builds are the slow part of this benchmark on a shared 2-core machine; a text's
    vector is a pure function of the text, so any earlier index with the same model can
    supply it.  Only texts never seen are embedded.
    """

    def __init__(self, inner: Embeddings, known: dict[str, list[float]]) -> None:
        self.inner = inner
        self.known = known

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [sha256_hex(t) for t in texts]
        by_key = dict(zip(keys, texts, strict=True))
        missing = [k for k in by_key if k not in self.known]
        if missing:
            vectors = self.inner.embed_documents([by_key[k] for k in missing])
            self.known.update(zip(missing, vectors, strict=True))
        return [self.known[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def harvest_vectors(dirs: list[Path], dimension: int = 384) -> dict[str, list[float]]:
    """sha256(embedded text) -> vector from every MiniLM collection under the given dirs."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    known: dict[str, list[float]] = {}
    for path in sorted({p.parent for d in dirs for p in d.rglob("chroma.sqlite3")}):
        client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        for listed in client.list_collections():
            collection = client.get_collection(listed.name, embedding_function=None)
            offset = 0
            while True:
                got = collection.get(
                    include=["embeddings", "metadatas", "documents"], limit=2000, offset=offset
                )
                embeddings = got["embeddings"]
                if embeddings is None or not len(got["ids"]):
                    break
                metas = got["metadatas"] or [{}] * len(got["ids"])
                docs = got["documents"] or [""] * len(got["ids"])
                for meta, doc, vector in zip(metas, docs, embeddings, strict=True):
                    if len(vector) != dimension:
                        continue
                    # Project stores record the hash of the embedded text (title trail +
                    # chunk); the naive baseline embeds its stored document as is.
                    key = str((meta or {}).get("text_hash") or sha256_hex(doc or ""))
                    known[key] = [float(x) for x in vector]
                offset += len(got["ids"])
    return known


def hybrid_index(
    prepared: Prepared, settings: Settings, seeds: dict[str, list[float]] | None = None
) -> tuple[KnowledgeBase, dict[str, Any]]:
    """The project's knowledge base over the prepared files, synced once per cache key."""
    kb = build_knowledge_base(settings, refresh_seconds=3600)
    done = settings.data_dir / "synced.json"
    if done.is_file():
        return kb, json.loads(done.read_text())
    if seeds:
        kb.embeddings.inner = SeededEmbeddings(kb.embeddings.inner, seeds)
    report = kb.synchronizer().sync([prepared.root])
    info = {
        "docs": report.docs_seen,
        "chunks": kb.store.count(),
        "seconds": round(report.seconds, 1),
    }
    done.write_text(json.dumps(info))
    return kb, info
