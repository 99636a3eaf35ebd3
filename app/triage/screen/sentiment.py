"""Frustration and sentiment from cues support agents look for (EN/ES/PT)."""

from __future__ import annotations

import re

from app.triage.results import Sentiment

_NEGATIVE = re.compile(
    r"\b(frustrat\w*|furious|angry|unacceptable|ridiculous|terrible|awful|useless|wtf|"
    r"asap|urgent\w*|immediately|still (?:not|broken|failing|waiting)|again|"
    r"(?:\d+(?:st|nd|rd|th)|third|second) time|days? (?:now|waiting)|losing (?:money|customers)|"
    r"cancel (?:our|the) (?:account|contract)|escalat\w*|no one (?:answers|responds)|"
    r"urgente|molest\w*|inaceptable|terrible|harto|todav[ií]a no|ya van|"
    r"absurdo|p[ée]ssimo|ainda n[ãa]o|irritad\w*|urg[êe]ncia)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\b(thanks?|thank you|great|awesome|love|appreciate\w*|works now|solved|perfect|"
    r"gracias|excelente|genial|obrigad[oa]|perfeito|[óo]timo)\b",
    re.IGNORECASE,
)


def frustration_score(text: str) -> float:
    """0..1: lexical cues, shouting and exclamation runs."""
    cues = len(_NEGATIVE.findall(text))
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) > 20 and sum(c.isupper() for c in letters) / len(letters) > 0.6
    bangs = len(re.findall(r"[!?]{2,}", text))
    return min(1.0, 0.3 * cues + (0.3 if shouting else 0.0) + 0.15 * bangs)


def sentiment_of(text: str) -> Sentiment:
    frustration = frustration_score(text)
    if frustration >= 0.3:
        return "negative"
    if _POSITIVE.search(text):
        return "positive"
    return "neutral"
