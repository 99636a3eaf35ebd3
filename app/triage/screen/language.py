"""Which language the developer wrote in (so replies can match it)."""

from __future__ import annotations

import re
import threading
from typing import Any

# Support runs in English, Spanish and Portuguese; a few neighbours keep short
# Romance-language messages from being forced into the wrong one of those three.
_LANGUAGES = ["en", "es", "pt", "fr", "de", "it"]
_CODE = re.compile(r"```.*?```|`[^`]*`|\{.*?\}|https?://\S+|\S+/\S+", re.DOTALL)
_MIN_LETTERS = 12


class LanguageDetector:
    """py3langid restricted to the languages support works in; loaded on first use."""

    def __init__(self, default: str = "en", min_confidence: float = 0.6) -> None:
        self.default = default
        self.min_confidence = min_confidence
        self._identifier: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    from py3langid.langid import MODEL_FILE, LanguageIdentifier

                    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                    identifier.set_languages(_LANGUAGES)
                    self._identifier = identifier
        return self._identifier

    def detect(self, text: str) -> str:
        # Code, JSON and URLs are English-looking whatever language the prose is in.
        prose = _CODE.sub(" ", text)
        if sum(ch.isalpha() for ch in prose) < _MIN_LETTERS:
            return self.default
        language, confidence = self._model().classify(prose)
        return str(language) if confidence >= self.min_confidence else self.default
