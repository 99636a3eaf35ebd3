"""Builds triage pipelines from Settings and an already-built knowledge base.

The composition root of app/triage: the only place Settings are turned into the plain
values the triage rooms take (an `LLMConfig`, paths, thresholds), so nothing under
app/triage reads Settings or knows the knowledge base.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.answers.build import build_reusable_answers
from app.knowledge import KnowledgeBase
from app.settings import Settings
from app.triage.classify.categorize import CategoryClassifier
from app.triage.classify.taxonomy import load_taxonomy
from app.triage.draft.offline import OfflineDrafter
from app.triage.draft.protocol import Drafter
from app.triage.draft.semantic import BlockSimilarity
from app.triage.llm.config import LLMConfig
from app.triage.pipeline import PipelineOptions, TriagePipeline
from app.triage.screen.language import LanguageDetector
from ingest.embeddings import embedding_fingerprint
from ingest.loaders.openapi import error_codes_from_spec, parse_document
from ingest.sections import SectionLookup
from ingest.types import LoadError
from ingest.vector_disk import DiskVectors

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from app.triage.classify.llm_classifier import LLMClassifier
    from app.triage.classify.taxonomy import Taxonomy
    from app.triage.draft.llm_drafter import LLMDrafter

log = logging.getLogger(__name__)


def llm_config(settings: Settings) -> LLMConfig:
    """The drafting model's endpoint and limits."""
    return LLMConfig(
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        max_tokens=settings.llm_max_tokens,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        block_remote_models=settings.block_remote_models,
        token_cache_dir=settings.tiktoken_cache_dir,
    )


def classifier_llm_config(settings: Settings) -> LLMConfig:
    """The classifying model: its own model name (if set) and a smaller output cap."""
    return replace(
        llm_config(settings),
        model=settings.llm_classifier_model or settings.llm_model,
        max_tokens=settings.llm_classifier_max_tokens,
    )


def llm_drafter(settings: Settings, *, chat_model: BaseChatModel | None = None) -> LLMDrafter:
    from app.triage.draft.llm_drafter import LLMDrafter

    return LLMDrafter(
        llm_config(settings),
        context_tokens=settings.llm_context_tokens,
        openapi_specs=settings.openapi_specs,
        chat_model=chat_model,
        prompts_dir=settings.prompts_dir,
    )


def llm_classifier(
    settings: Settings, taxonomy: Taxonomy, *, chat_model: BaseChatModel | None = None
) -> LLMClassifier:
    from app.triage.classify.llm_classifier import LLMClassifier

    return LLMClassifier(
        classifier_llm_config(settings),
        taxonomy,
        chat_model=chat_model,
        prompts_dir=settings.prompts_dir,
    )


def known_error_codes(specs: Sequence[Path]) -> frozenset[str]:
    codes: set[str] = set()
    for spec in specs:
        try:
            document = parse_document(spec, spec.read_text("utf-8"))
        except (OSError, LoadError) as exc:
            log.warning("skipping error codes from %s: %s", spec, exc)
            continue
        codes |= error_codes_from_spec(document)
    return frozenset(codes)


def _block_vectors(settings: Settings, kb: KnowledgeBase) -> DiskVectors:
    """Block vectors shared by this host's processes, in a file of this model's own."""
    model = embedding_fingerprint(kb.embeddings.model_name, kb.embeddings.dimension)
    return DiskVectors(
        settings.block_vectors_dir / f"{model}.sqlite", max_rows=settings.block_vectors_max_rows
    )


def build_pipeline(settings: Settings, kb: KnowledgeBase) -> TriagePipeline:
    taxonomy = load_taxonomy(settings.taxonomy_path)
    # Blocks are compared with the question by the local model only: with a remote embedding
    # API every draft would send its ~100 doc blocks over the network.
    similarity = (
        BlockSimilarity(kb.embeddings.embed_documents, disk=_block_vectors(settings, kb))
        if settings.resolved_embedding_provider == "local"
        else None
    )
    offline = OfflineDrafter(sections=SectionLookup(kb.retriever), similarity=similarity)
    drafter: Drafter = offline
    llm: LLMClassifier | None = None
    if settings.llm_enabled:
        drafter = llm_drafter(settings)
        llm = llm_classifier(settings, taxonomy)
    classifier = CategoryClassifier(
        taxonomy,
        kb.embeddings,
        cache_dir=settings.resolved_models_dir,
        model_name=kb.embeddings.model_name,
        trained_path=settings.classifier_path,
        llm=llm,
        min_offline_confidence=settings.llm_override_min_offline_confidence,
    )
    return TriagePipeline(
        taxonomy=taxonomy,
        retriever=kb.retriever,
        classifier=classifier,
        drafter=drafter,
        offline_drafter=offline,
        language=LanguageDetector(),
        known_error_codes=known_error_codes(settings.openapi_specs),
        options=PipelineOptions(k=settings.search_k, min_support=settings.answer_min_support),
        answers=build_reusable_answers(settings, kb),
    )
