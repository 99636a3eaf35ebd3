"""Assembles the triage pipeline from Settings and an already-built knowledge base."""

from __future__ import annotations

import logging
from pathlib import Path

from app.answers.build import build_reusable_answers
from app.knowledge import KnowledgeBase
from app.settings import Settings
from app.triage.categorize import CategoryClassifier
from app.triage.drafting.base import Drafter
from app.triage.drafting.offline import OfflineDrafter
from app.triage.language import LanguageDetector
from app.triage.pipeline import PipelineOptions, TriagePipeline
from app.triage.taxonomy import load_taxonomy
from ingest.loaders.openapi import error_codes_from_spec, parse_document
from ingest.sections import SectionLookup
from ingest.types import LoadError

log = logging.getLogger(__name__)


def known_error_codes(specs: list[Path]) -> frozenset[str]:
    codes: set[str] = set()
    for spec in specs:
        try:
            document = parse_document(spec, spec.read_text("utf-8"))
        except (OSError, LoadError) as exc:
            log.warning("skipping error codes from %s: %s", spec, exc)
            continue
        codes |= error_codes_from_spec(document)
    return frozenset(codes)


def build_pipeline(settings: Settings, kb: KnowledgeBase) -> TriagePipeline:
    taxonomy = load_taxonomy(settings.taxonomy_path)
    offline = OfflineDrafter(sections=SectionLookup(kb.retriever))
    drafter: Drafter = offline
    llm_classifier = None
    if settings.llm_enabled:
        from app.triage.llm.classifier import LLMClassifier
        from app.triage.llm.drafter import LLMDrafter

        drafter = LLMDrafter(settings, prompts_dir=settings.prompts_dir)
        llm_classifier = LLMClassifier(settings, taxonomy, prompts_dir=settings.prompts_dir)
    classifier = CategoryClassifier(
        taxonomy,
        kb.embeddings,
        cache_dir=settings.resolved_models_dir,
        model_name=kb.embeddings.model_name,
        trained_path=settings.classifier_path,
        llm=llm_classifier,
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
