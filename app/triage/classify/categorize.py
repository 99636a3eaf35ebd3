"""Category decision: the LLM when configured, the offline classifier otherwise or on failure.

With an LLM configured the offline classifier still runs: when it is confident
(`min_offline_confidence`, 0.9 by default) and the LLM names another category, the offline
category stands and the decision is flagged `classifier_disagreement` for a person to
look at.  A confident, trained prediction is not overturned by one generation of a model
that may be small or misconfigured; a reviewer sees both.

The offline classifier is trained from the taxonomy's examples on first use (a few
seconds, frozen embeddings) and cached under the data dir, keyed by the taxonomy's
content so an edited taxonomy retrains.  A classifier trained on a team's own
labelled tickets (`triage classifier train`) replaces it when configured.

The taxonomy model reads a Spanish or Portuguese message together with its English gloss
(`ingest.multilingual`, the glossary retrieval uses), in training and in prediction: the
encoder is English-only and most examples are English, so "tarjeta" and "cartão" would
otherwise share nothing with "card".
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.embeddings import Embeddings

from app.triage.classify.llm_classifier import (
    LLMClassification,
    LLMClassificationError,
    LLMClassifier,
)
from app.triage.classify.offline import IntentClassifier, TrainOptions
from app.triage.classify.taxonomy import Taxonomy
from ingest.multilingual import english_query

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CategoryDecision:
    category: str
    confidence: float
    source: str
    in_scope: bool
    llm: LLMClassification | None = None
    fallback_error: str | None = None
    flags: tuple[str, ...] = ()
    llm_mode: str | None = None


DISAGREEMENT_FLAG = "classifier_disagreement"


# Bumped when what the taxonomy model is trained on changes, so old caches retrain.
_TAXONOMY_FEATURES = "glossed-1"


def glossed(text: str) -> str:
    """The text, followed by its English gloss when it reads as Spanish or Portuguese."""
    gloss = english_query(text)
    return f"{text} {gloss}" if gloss else text


def _taxonomy_key(taxonomy: Taxonomy, model_name: str) -> str:
    payload = json.dumps([model_name, _TAXONOMY_FEATURES, taxonomy.model_dump()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class CategoryClassifier:
    def __init__(
        self,
        taxonomy: Taxonomy,
        embeddings: Embeddings,
        *,
        cache_dir: Path,
        model_name: str,
        trained_path: Path | None = None,
        llm: LLMClassifier | None = None,
        min_offline_confidence: float = 0.9,
    ) -> None:
        self.taxonomy = taxonomy
        self.embeddings = embeddings
        self.cache_dir = cache_dir
        self.model_name = model_name
        self.trained_path = trained_path
        self.llm = llm
        self.min_offline_confidence = min_offline_confidence
        self._offline: IntentClassifier | None = None
        # Only the taxonomy model was trained on glossed text; a team's own model was not.
        self._reads_gloss = False
        self._lock = threading.Lock()

    def offline_model(self) -> IntentClassifier:
        if self._offline is not None:
            return self._offline
        with self._lock:
            if self._offline is None:
                self._offline = self._load_or_train()
        return self._offline

    def _load_or_train(self) -> IntentClassifier:
        if self.trained_path is not None and self.trained_path.exists():
            return IntentClassifier.load(self.trained_path, embeddings=self.embeddings)
        self._reads_gloss = True
        path = self.cache_dir / f"taxonomy-{_taxonomy_key(self.taxonomy, self.model_name)}.joblib"
        if path.exists():
            try:
                return IntentClassifier.load(path, embeddings=self.embeddings)
            except Exception as exc:  # a corrupt cache is rebuilt, not fatal
                log.warning("retraining the taxonomy classifier: %s", exc)
        texts, labels = self.taxonomy.training_pairs()
        texts = [glossed(t) for t in texts]
        model = IntentClassifier.train(
            texts, labels, embeddings=self.embeddings, options=TrainOptions(mode="frozen")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        return model

    def classify(self, text: str) -> CategoryDecision:
        offline = self._offline_decision(text)
        if self.llm is None:
            return offline
        try:
            result = self.llm.classify(text)
        except LLMClassificationError as exc:
            # The reason code only: it lands in flags and logs, never the server's text.
            log.warning("LLM classification failed (%s), using the offline one", exc.reason)
            return replace(offline, fallback_error=exc.reason, llm_mode=exc.mode)
        if (
            result.category != offline.category
            and offline.in_scope
            and offline.confidence >= self.min_offline_confidence
        ):
            log.info(
                "LLM says %s, offline says %s at %.3f: keeping the offline category",
                result.category,
                offline.category,
                offline.confidence,
            )
            return replace(
                offline,
                llm=result,
                fallback_error=DISAGREEMENT_FLAG,
                flags=(DISAGREEMENT_FLAG,),
                llm_mode=result.structured_mode,
            )
        return CategoryDecision(
            category=result.category,
            confidence=result.confidence,
            source="llm",
            in_scope=True,
            llm=result,
            llm_mode=result.structured_mode,
        )

    def _offline_decision(self, text: str) -> CategoryDecision:
        model = self.offline_model()
        prediction = model.predict([glossed(text) if self._reads_gloss else text])[0]
        label = prediction.label
        known = label is not None and label in self.taxonomy.categories
        return CategoryDecision(
            category=label if known and label else self.taxonomy.fallback_category,
            confidence=prediction.confidence if known else min(prediction.confidence, 0.5),
            source="offline",
            in_scope=known,
        )
