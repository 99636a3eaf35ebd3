"""Category decision: the LLM when configured, the offline classifier otherwise or on failure.

The offline classifier is trained from the taxonomy's examples on first use (a few
seconds, frozen embeddings) and cached under the data dir, keyed by the taxonomy's
content so an edited taxonomy retrains.  A classifier trained on a team's own
labelled tickets (`triage classifier train`) replaces it when configured.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from app.triage.classifier import IntentClassifier, TrainOptions
from app.triage.llm.classifier import LLMClassification, LLMClassificationError, LLMClassifier
from app.triage.taxonomy import Taxonomy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CategoryDecision:
    category: str
    confidence: float
    source: str
    in_scope: bool
    llm: LLMClassification | None = None
    fallback_error: str | None = None


def _taxonomy_key(taxonomy: Taxonomy, model_name: str) -> str:
    payload = json.dumps([model_name, taxonomy.model_dump()], sort_keys=True)
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
    ) -> None:
        self.taxonomy = taxonomy
        self.embeddings = embeddings
        self.cache_dir = cache_dir
        self.model_name = model_name
        self.trained_path = trained_path
        self.llm = llm
        self._offline: IntentClassifier | None = None
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
        path = self.cache_dir / f"taxonomy-{_taxonomy_key(self.taxonomy, self.model_name)}.joblib"
        if path.exists():
            try:
                return IntentClassifier.load(path, embeddings=self.embeddings)
            except Exception as exc:  # a corrupt cache is rebuilt, not fatal
                log.warning("retraining the taxonomy classifier: %s", exc)
        texts, labels = self.taxonomy.training_pairs()
        model = IntentClassifier.train(
            texts, labels, embeddings=self.embeddings, options=TrainOptions(mode="frozen")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        return model

    def classify(self, text: str) -> CategoryDecision:
        error: str | None = None
        if self.llm is not None:
            try:
                result = self.llm.classify(text)
                return CategoryDecision(
                    category=result.category,
                    confidence=result.confidence,
                    source="llm",
                    in_scope=True,
                    llm=result,
                )
            except LLMClassificationError as exc:
                error = str(exc)
                log.warning("LLM classification failed, using the offline classifier: %s", exc)
        prediction = self.offline_model().predict([text])[0]
        label = prediction.label
        known = label is not None and label in self.taxonomy.categories
        return CategoryDecision(
            category=label if known and label else self.taxonomy.fallback_category,
            confidence=prediction.confidence if known else min(prediction.confidence, 0.5),
            source="offline",
            in_scope=known,
            fallback_error=error,
        )
