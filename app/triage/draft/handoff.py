"""When a person must answer instead of the service (abstention).

A draft is handed off when any of these holds, checked in this order:

* ``prompt_injection``: the message tries to steer the assistant;
* ``untrusted_source``: a retrieved doc passage was withheld as poisoned (instructions
  to the reader or model, credential phishing, links off the doc set's domains);
* ``security_exposure``: a secret was pasted or the category is security;
* ``incident``: outage language about production, or classified as an outage
  (agents own incident comms);
* ``account_specific``: it asks about one specific payment, account or override
  (a stuck payout, a KYC override, a refund), which the docs cannot answer;
* ``commercial_terms``: prices and fees, which are set per contract;
* ``feature_request``: product feedback goes to a person who can log it;
* ``insufficient_documentation``: the best retrieved passage is too weakly related
  (cosine similarity below the threshold calibrated on the dev set), or the
  drafter itself found nothing that covers the question.
"""

from __future__ import annotations

import re

from app.triage.results import TriageResult
from app.triage.screen.signals import Signals
from ingest.retrieval import Hit

# An identifier of a specific object, as developers paste them.
_SPECIFIC_ID = re.compile(
    r"\b(?:[A-Z][A-Za-z]+:[0-9a-f]{6,}[-0-9a-f]*|(?:txn|tx|pay|payout|quote|cus|acct|tr)_"
    r"[A-Za-z0-9]{6,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)
_STATUS_QUESTION = re.compile(
    r"\b(stuck|pending|missing|hasn'?t (?:arrived|settled)|never (?:arrived|received)|"
    r"where is|status of|not (?:received|credited)|still processing|rejected|declined|"
    r"balance (?:is )?still|atascad\w*|pendiente|rechazad\w*|sigue en|no se refleja|"
    r"qu[eé] pas[oó]|no (?:ha )?llegad\w*|parad[oa]|pendente|rejeitad\w*|"
    r"n[ãa]o (?:chegou|caiu))\b",
    re.IGNORECASE,
)
_ACTION_REQUEST = re.compile(
    r"\b(refund|reverse|reversal|cancel (?:the|this|our) (?:payment|payout|transfer)|"
    r"manually (?:approve|verify|review)|override|expedite|"
    r"(?:increase|raise|bump|lift) (?:our|my|the) (?:[\w-]+ ){0,3}(?:limits?|max(?:imum)?|cap)|"
    r"l[ií]mite\w* .{0,60}(?:da nossa conta|de nuestra cuenta|de nuestro)|"
    r"unblock|unfreeze our|whitelist|approve our|reembols\w*|devoluci[oó]n|aprobar manualmente|"
    r"estorn\w*|aprovar manualmente|reverter|revertir)\b",
    re.IGNORECASE,
)


# Prices and fees are set per contract: the public docs cannot quote them.
_COMMERCIAL = re.compile(
    r"\b(?:how much (?:do|does|will) (?:you|grid|it) charge|(?:actual|exact|your) (?:fees?|pricing|"
    r"prices?)|fx spread|pricing (?:page|numbers|tiers?)|volume discounts?|cu[aá]nto cobran|"
    r"quanto (?:voc[eê]s )?cobram)\b",
    re.IGNORECASE,
)


# A feature request is routed to a person only when it is phrased as one; a "do you
# support X?" question is often answered by the docs.
_FEATURE_ASK = re.compile(
    r"\b(feature request|would (?:be great|love)|any plans|please add|roadmap|eta\b|"
    r"ser[ií]a (?:genial|bueno)|planes de|seria (?:ótimo|bom)|planos de)",
    re.IGNORECASE,
)


def is_account_specific(text: str, signals: Signals) -> bool:
    specific = bool(_SPECIFIC_ID.search(text)) or bool(signals.request_ids)
    if specific and (_STATUS_QUESTION.search(text) or signals.mentions_money_stuck):
        return True
    if _ACTION_REQUEST.search(text) and re.search(
        r"\b(our|my|this|nuestr\w*|mi|nosso|minha)\b", text, re.IGNORECASE
    ):
        return True
    return signals.mentions_money_stuck and signals.environment == "production"


def support_score(hits: list[Hit]) -> float:
    """The best dense similarity among the retrieved passages."""
    return max((h.dense_score or 0.0 for h in hits), default=0.0)


def handoff_reason(
    *, text: str, triage: TriageResult, signals: Signals, hits: list[Hit], min_support: float
) -> str | None:
    flags = set(triage.flags)
    if "prompt_injection" in flags:
        return "prompt_injection"
    # A poisoned doc page was among the best passages: the rest may answer, but a person
    # checks before anything goes out (the page itself never reaches the draft).
    if "untrusted_source" in flags:
        return "untrusted_source"
    if "secret" in flags or triage.category == "security":
        return "security_exposure"
    outage = signals.mentions_outage and (
        triage.category == "incident_outage" or signals.environment == "production"
    )
    if outage:
        return "incident"
    # A question about one specific payment outranks the classifier's guess of "incident".
    if is_account_specific(text, signals):
        return "account_specific"
    if _COMMERCIAL.search(text):
        return "commercial_terms"
    if triage.category == "incident_outage" and (
        signals.mentions_outage or signals.environment == "production"
    ):
        return "incident"
    if triage.category == "feature_request" and _FEATURE_ASK.search(text):
        return "feature_request"
    if support_score(hits) < min_support:
        return "insufficient_documentation"
    return None
