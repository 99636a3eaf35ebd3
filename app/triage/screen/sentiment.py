"""Frustration and sentiment from cues support agents look for (EN/ES/PT).

The cue words are vocabulary.yaml's `frustration` and `satisfaction` lists, matched on
the accent-free, lower-cased text; shouting is judged on the text as written.
"""

from __future__ import annotations

import re

from app.triage import vocabulary
from app.triage.results import Sentiment
from app.triage.screen.signals import fold


def frustration_score(text: str) -> float:
    """0..1: lexical cues, shouting and exclamation runs."""
    cues = len(vocabulary.pattern("frustration").findall(fold(text)))
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) > 20 and sum(c.isupper() for c in letters) / len(letters) > 0.6
    bangs = len(re.findall(r"[!?]{2,}", text))
    return min(1.0, 0.3 * cues + (0.3 if shouting else 0.0) + 0.15 * bangs)


def sentiment_of(text: str) -> Sentiment:
    frustration = frustration_score(text)
    if frustration >= 0.3:
        return "negative"
    if vocabulary.pattern("satisfaction").search(fold(text)):
        return "positive"
    return "neutral"
