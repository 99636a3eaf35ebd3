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
* ``compliance_question``: licences, data residency and retention, permitted business
  types: the company's own policies, which the product docs do not state;
* ``feature_request``: product feedback goes to a person who can log it;
* ``insufficient_documentation``: the best retrieved passage is too weakly related
  (cosine similarity below the threshold calibrated on the dev set), or the
  drafter itself found nothing that covers the question;
* ``low_confidence`` (the offline drafter's): it drafted an answer that its confidence model
  says is unlikely to answer; the docs may cover the question all the same.
"""

from __future__ import annotations

import re

from app.triage import vocabulary
from app.triage.results import TriageResult
from app.triage.screen.id_shapes import UUID
from app.triage.screen.signals import Signals, fold
from ingest.retrieval import Hit

# An identifier of a specific object, as developers paste them.
_SPECIFIC_ID = re.compile(
    r"\b(?:[A-Z][A-Za-z]+:[0-9a-f]{6,}[-0-9a-f]*|(?:txn|tx|pay|payout|quote|cus|acct|tr)_"
    rf"[A-Za-z0-9]{{6,}}|{UUID})\b"
)


_REQUEST_ERRORS = frozenset({400, 401, 403, 405, 422})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_account_specific(text: str, signals: Signals) -> bool:
    folded = fold(text)
    specific = bool(_SPECIFIC_ID.search(text)) or bool(signals.request_ids)
    # A pasted call rejected as malformed or unauthorised asks why the request is wrong,
    # which the docs answer, even when it names the object's state ("quote still PENDING").
    # So does a pasted write call said to be rejected with no status at all ("PATCH
    # /cards/… gets rejected every time").  Not a 404 or 409, which may be about the one
    # object itself, nor a pasted GET, which shows the object's state.
    statuses = signals.http_statuses
    failing_call = bool(signals.endpoints) and any(s in _REQUEST_ERRORS for s in statuses)
    failing_call |= not statuses and any(e.method in _WRITES for e in signals.endpoints)
    # A refusal naming an error code of the spec ("409 INVALID_STATE_TRANSITION" on a card
    # still PROCESSING) is explained by the docs, whatever state word the message uses
    # (grid_holdout_r, read after it was measured).
    failing_call |= bool(signals.error_codes) and _refused_call(signals)
    status_question = not failing_call and vocabulary.pattern("status_question").search(folded)
    if specific and (status_question or signals.mentions_money_stuck):
        return True
    if vocabulary.pattern("action_request").search(folded) and vocabulary.pattern(
        "own_account"
    ).search(folded):
        return True
    if vocabulary.pattern("team_action").search(folded):
        return True
    return signals.mentions_money_stuck and signals.environment == "production"


def _refused_call(signals: Signals) -> bool:
    """A pasted call (method and path) answered with a 4xx status."""
    return any(e.method for e in signals.endpoints) and any(
        400 <= s < 500 for s in signals.http_statuses
    )


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
    if vocabulary.pattern("commercial_terms").search(fold(text)):
        return "commercial_terms"
    # A regulation named as the setting of a refused call ("our GDPR erasure worker's DELETE
    # /customers/{id} returns 410") asks what the call's answer means: the docs say.
    if vocabulary.pattern("compliance_terms").search(fold(text)) and not _refused_call(signals):
        return "compliance_question"
    if triage.category == "incident_outage" and (
        signals.mentions_outage or signals.environment == "production"
    ):
        return "incident"
    if triage.category == "feature_request" and vocabulary.any_match("feature_ask", fold(text)):
        return "feature_request"
    if support_score(hits) < min_support:
        return "insufficient_documentation"
    return None
