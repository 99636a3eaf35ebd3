"""Builds the knowledge-base parts (embeddings, Chroma store, retriever, sync) from Settings.

Callers (CLI commands, the API lifespan, benchmarks) build these once and pass
them down; nothing here is cached at module level.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.embeddings import Embeddings
from pydantic import SecretStr

from app.settings import LOCAL_EMBEDDING_MODEL, Settings
from ingest.embedding_cache import CachedEmbeddings
from ingest.embedding_pool import EmbeddingPool
from ingest.embeddings import (
    INT8_SUFFIX,
    MINILM_DIM,
    CountingEmbeddings,
    LocalMiniLMEmbeddings,
    embedding_fingerprint,
)
from ingest.retrieval import HybridRetriever
from ingest.sync import ChunkingOptions, JobQueue, Synchronizer
from ingest.sync_report import ProgressCallback
from ingest.vector_disk import DiskVectors
from ingest.vectorstore import KnowledgeBaseStore, make_chroma_client

_OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def build_embeddings(settings: Settings) -> CountingEmbeddings:
    model = settings.resolved_embedding_model
    inner: Embeddings
    if settings.resolved_embedding_provider == "openai":
        from langchain_openai import OpenAIEmbeddings

        # Compatible servers (vLLM, Ollama) need some key and take text, not token ids.
        api_key = settings.openai_api_key or SecretStr("unused-by-local-server")
        inner = OpenAIEmbeddings(
            model=model,
            openai_api_key=api_key,
            openai_api_base=settings.openai_base_url,
            check_embedding_ctx_length=settings.openai_base_url is None,
            request_timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )
        return CountingEmbeddings(inner, model_name=model, dimension=_OPENAI_DIMENSIONS.get(model))
    if model != LOCAL_EMBEDDING_MODEL:
        raise ValueError(
            f"the local embedding provider only ships {LOCAL_EMBEDDING_MODEL!r}, not {model!r}"
        )
    inner = LocalMiniLMEmbeddings(
        cache_dir=settings.resolved_models_dir,
        batch_size=settings.embedding_batch_size,
        threads=settings.embedding_threads,
        backend="onnx-int8" if settings.embedding_int8 else "onnx",
    )
    # int8 vectors are another vector space as far as a collection is concerned.
    name = f"{model}{INT8_SUFFIX}" if settings.embedding_int8 else model
    return CountingEmbeddings(inner, model_name=name, dimension=MINILM_DIM)


def build_store(
    settings: Settings, embeddings: CountingEmbeddings, *, collection: str | None = None
) -> KnowledgeBaseStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    client = make_chroma_client(
        chroma_url=settings.chroma_url, persist_path=str(settings.chroma_path)
    )
    return KnowledgeBaseStore(
        client,
        collection or settings.collection,
        model_name=embeddings.model_name,
        dimension=embeddings.dimension,
    )


@dataclass
class KnowledgeBase:
    """The parts that together answer `ingest` and `search`."""

    settings: Settings
    embeddings: CountingEmbeddings
    store: KnowledgeBaseStore
    retriever: HybridRetriever

    def synchronizer(
        self,
        progress: ProgressCallback | None = None,
        *,
        workers: int | None = None,
        queue: JobQueue | None = None,
    ) -> Synchronizer:
        """The sync; with ``queue`` it only plans: embedding jobs' workers write and
        update the lexical index (app/services/embed_jobs.py)."""
        s = self.settings
        return Synchronizer(
            self.store,
            self.embeddings if queue else self._ingest_embeddings(workers or s.ingest_workers),
            chunking=ChunkingOptions(
                max_tokens=s.chunk_tokens,
                overlap_tokens=s.chunk_overlap_tokens,
                min_tokens=s.chunk_min_tokens,
            ),
            exclude=s.ingest_exclude,
            use_manifest=s.use_manifest,
            max_file_bytes=s.ingest_max_file_bytes,
            progress=progress,
            allowed_domains=s.untrusted_allowed_domains,
            lexical=None if queue else self.retriever.lexical_store,
            queue=queue,
        )

    def _ingest_embeddings(self, workers: int) -> Embeddings:
        # Worker processes only pay off for the local model; a remote one is already parallel.
        if workers <= 1 or self.settings.resolved_embedding_provider != "local":
            return _cached(self.settings, self.embeddings)
        return _cached(self.settings, _pooled(self.settings, self.embeddings, workers))


def _cached(settings: Settings, embeddings: CountingEmbeddings) -> Embeddings:
    """A sync's model behind the document-vector cache, where one is configured.  Only syncs
    read it: questions, messages and doc blocks are embedded as before, with no shared lock."""
    if settings.embedding_cache_dir is None:
        return embeddings
    fingerprint = embedding_fingerprint(embeddings.model_name, embeddings.dimension)
    disk = DiskVectors(settings.embedding_cache_dir / f"{fingerprint}.sqlite")
    return CachedEmbeddings(embeddings, disk)


def _pooled(settings: Settings, embeddings: CountingEmbeddings, workers: int) -> CountingEmbeddings:
    pool = EmbeddingPool(
        cache_dir=settings.resolved_models_dir,
        workers=workers,
        batch_size=settings.embedding_batch_size,
        backend="onnx-int8" if settings.embedding_int8 else "onnx",
    )
    return CountingEmbeddings(
        pool, model_name=embeddings.model_name, dimension=embeddings.dimension
    )


def build_knowledge_base(
    settings: Settings, *, collection: str | None = None, refresh_seconds: float = 2.0
) -> KnowledgeBase:
    embeddings = build_embeddings(settings)
    store = build_store(settings, embeddings, collection=collection)
    retriever = HybridRetriever(
        store,
        embeddings,
        rrf_k=settings.rrf_k,
        refresh_seconds=refresh_seconds,
        allowed_domains=settings.untrusted_allowed_domains,
        lexical_dir=settings.lexical_path(store.name),
    )
    return KnowledgeBase(settings, embeddings, store, retriever)
