"""When a person must answer instead of the service (abstention).

A draft is handed off when any of these holds, checked in this order:

* ``prompt_injection``: the message tries to steer the assistant;
* ``security_exposure``: a secret was pasted or the category is security;
* ``incident``: outage language in the message (agents own incident comms);
* ``account_specific``: it asks about one specific payment, account or override
  (a stuck payout, a KYC override, a refund), which the docs cannot answer;
* ``incident``: classified as an outage without outage words;
* ``insufficient_documentation``: the best retrieved passage is too weakly related
  (cosine similarity below the threshold calibrated on the dev set), or the
  drafter itself found nothing that covers the question.
"""

from __future__ import annotations

import re

from app.triage.models import TriageResult
from app.triage.signals import Signals
from ingest.retrieval import Hit

# An identifier of a specific object, as developers paste them.
_SPECIFIC_ID = re.compile(
    r"\b(?:[A-Z][A-Za-z]+:[0-9a-f]{6,}[-0-9a-f]*|(?:txn|tx|pay|payout|quote|cus|acct|tr)_"
    r"[A-Za-z0-9]{6,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)
_STATUS_QUESTION = re.compile(
    r"\b(stuck|pending|missing|hasn'?t (?:arrived|settled)|never (?:arrived|received)|"
    r"where is|status of|not (?:received|credited)|still processing|atascad\w*|pendiente|"
    r"no (?:ha )?llegad\w*|parad[oa]|pendente|n[ãa]o (?:chegou|caiu))\b",
    re.IGNORECASE,
)
_ACTION_REQUEST = re.compile(
    r"\b(refund|reverse|reversal|cancel (?:the|this|our) (?:payment|payout|transfer)|"
    r"manually (?:approve|verify|review)|override|expedite|increase our limits?|raise our limits?|"
    r"unblock|unfreeze our|whitelist|approve our|reembols\w*|devoluci[oó]n|aprobar manualmente|"
    r"estorn\w*|aprovar manualmente)\b",
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
    if "secret" in flags or triage.category == "security":
        return "security_exposure"
    if signals.mentions_outage:
        return "incident"
    # A question about one specific payment outranks the classifier's guess of "incident".
    if is_account_specific(text, signals):
        return "account_specific"
    if triage.category == "incident_outage":
        return "incident"
    if support_score(hits) < min_support:
        return "insufficient_documentation"
    return None
