"""Priority from the category's default plus what the message says.

P1 means a production outage, money stuck or missing in production, or a security
exposure, so a P1 needs one of those in the message (rules 1-5); the word lists live in
vocabulary.yaml.  Rules, in order (each one that changes the priority is recorded):

1. A pasted production credential or recovery phrase → P1 (security exposure).
2. Outage language about production (or with no environment named) → P1; when the only
   statuses quoted are 4xx the failures are the integration's own → P2.
3. Money stuck or missing (or a question about one specific payment, account or
   deposit) in production → P1; money stuck in an unnamed environment → P2.
4. A credential or account said to be leaked, exposed or used by someone else, or money
   moved or accounts added that nobody on the developer's side made, outside the sandbox
   → P1.
5. A category whose default is P1 (incidents, security) with none of the above and no
   production named, or only production access asked for → P2: a question about
   incidents is not an incident.
6. Server errors (5xx), error codes or failures in production, or money sent by
   mistake in production → at least P2.
7. Words saying the integration is blocked or a launch is at stake, or an API error that
   keeps happening → at least P2.
8. A sandbox-only question is never above P3 unless security is involved.
9. Feature requests stay P4 unless one of rules 1-4 fired.
Otherwise the category's default applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.triage import vocabulary
from app.triage.classify.taxonomy import PRIORITY_ORDER, Priority
from app.triage.screen.signals import Signals, fold


@dataclass
class PriorityDecision:
    priority: Priority
    reasons: list[str] = field(default_factory=list)


def _raise_to(current: Priority, target: Priority) -> Priority:
    return target if PRIORITY_ORDER[target] < PRIORITY_ORDER[current] else current


def _exposure(text: str, category: str) -> bool:
    """Activity nobody on the developer's side made, an exposure cue about a credential, or
    any exposure cue in a security message."""
    if vocabulary.pattern("unrecognised_activity").search(text):
        return True
    if not vocabulary.pattern("security_exposure").search(text):
        return False
    return category == "security" or bool(vocabulary.pattern("credential").search(text))


def decide_priority(
    *,
    category: str,
    default: Priority,
    signals: Signals,
    text: str,
    production_secret: bool,
    account_specific: bool = False,
) -> PriorityDecision:
    decision = PriorityDecision(priority=default, reasons=[f"default for {category}: {default}"])
    folded = fold(text)
    production = signals.environment == "production"
    sandbox = signals.environment == "sandbox"
    urgent = False

    def bump(target: Priority, reason: str) -> None:
        before = decision.priority
        decision.priority = _raise_to(decision.priority, target)
        if decision.priority != before:
            decision.reasons.append(reason)

    if production_secret:
        bump("P1", "production credential or recovery phrase pasted")
        urgent = True
    failures = [s for s in signals.http_statuses if s >= 400]
    client_errors_only = bool(failures) and all(s < 500 for s in failures)
    if signals.mentions_outage and not sandbox:
        if client_errors_only:
            bump("P2", "requests failing with client errors")
        else:
            bump("P1", "outage reported in production")
            urgent = True
    if signals.mentions_money_stuck:
        if production:
            bump("P1", "money stuck or missing in production")
            urgent = True
        elif not sandbox:
            bump("P2", "money stuck or missing")
    if account_specific and production and vocabulary.pattern("money").search(folded):
        bump("P1", "a specific payment or deposit in production")
        urgent = True
    if not sandbox and _exposure(folded, category):
        bump("P1", "credential or account exposed")
        urgent = True
    # Recall first: a P1 category about production keeps its P1 even with no cue found,
    # unless what the message asks for is production itself (access, credentials).
    asks_for_production = vocabulary.pattern("production_access_request").search(folded)
    if decision.priority == "P1" and not urgent and (not production or asks_for_production):
        decision.priority = "P2"
        decision.reasons.append("no outage, missing money or exposure named: P2")
    has_server_error = any(500 <= s <= 599 for s in signals.http_statuses)
    failing = vocabulary.pattern("failure").search(folded)
    if production and (has_server_error or signals.error_codes or failing):
        bump("P2", "production errors")
    if production and vocabulary.pattern("money_mistake").search(folded):
        bump("P2", "money sent by mistake in production")
    api_error = bool(signals.error_codes) or any(s >= 400 for s in signals.http_statuses)
    if api_error and vocabulary.pattern("recurring_failure").search(folded):
        bump("P2", "an API error that keeps happening")
    if vocabulary.pattern("blocked").search(folded):
        bump("P2", "integration blocked")
    capped = sandbox and not production_secret and category != "security"
    if capped and PRIORITY_ORDER[decision.priority] < PRIORITY_ORDER["P3"]:
        decision.priority = "P3"
        decision.reasons.append("sandbox only: capped at P3")
    if category == "feature_request" and not urgent and decision.priority != "P4":
        decision.priority = "P4"
        decision.reasons.append("feature request")
    return decision
