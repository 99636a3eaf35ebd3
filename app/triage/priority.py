"""Priority from the category's default plus what the message says.

Rules, in order (each one that fires is recorded as a reason):

1. A pasted production credential or recovery phrase → P1 (security exposure).
2. Outage language about production (or with no environment named) → P1.
3. Money stuck or missing (or a question about one specific payment, account or
   deposit) in production → P1; money stuck in an unnamed environment → P2.
4. Server errors (5xx) or error codes in production → at least P2.
5. Words saying the integration is blocked or a launch is at stake, or an API error that
   keeps happening → at least P2.
6. A sandbox-only question is never above P3 unless security is involved.
7. Feature requests stay P4 unless one of rules 1-3 fired.
Otherwise the category's default applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.triage.signals import Signals
from app.triage.taxonomy import PRIORITY_ORDER, Priority

_RECURRING_FAILURE = re.compile(
    r"\b(always|keeps?|every (?:call|request|time)|all (?:our )?(?:calls|requests)|"
    r"still|again|consistently|intermittent\w*|for (?:our|all|some) \w+|siempre|sigue|"
    r"todas? las|sempre|continua)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\b(payouts?|payments?|deposits?|transfers?|funds|money|wire|dinero|pagos?|dep[oó]sitos?|"
    r"transferencias?|pagamentos?|dinheiro)\b",
    re.IGNORECASE,
)

_BLOCKED = re.compile(
    r"\b(blocked|blocking|can'?t go live|cannot go live|"
    r"launch(?:ing)? (?:tomorrow|today|this week)|go-?live|deadline|all (?:our )?users|"
    r"every (?:customer|user)|bloqueado|bloqueados|"
    r"no podemos (?:salir|lanzar)|lan[çc]amento)\b",
    re.IGNORECASE,
)


@dataclass
class PriorityDecision:
    priority: Priority
    reasons: list[str] = field(default_factory=list)


def _raise_to(current: Priority, target: Priority) -> Priority:
    return target if PRIORITY_ORDER[target] < PRIORITY_ORDER[current] else current


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
    if signals.mentions_outage and not sandbox:
        bump("P1", "outage reported in production")
        urgent = True
    if signals.mentions_money_stuck:
        if production:
            bump("P1", "money stuck or missing in production")
            urgent = True
        elif not sandbox:
            bump("P2", "money stuck or missing")
    if account_specific and production and _MONEY.search(text):
        bump("P1", "a specific payment or deposit in production")
        urgent = True
    has_server_error = any(500 <= s <= 599 for s in signals.http_statuses)
    if production and (has_server_error or signals.error_codes):
        bump("P2", "production errors")
    api_error = bool(signals.error_codes) or any(s >= 400 for s in signals.http_statuses)
    if api_error and _RECURRING_FAILURE.search(text):
        bump("P2", "an API error that keeps happening")
    if _BLOCKED.search(text):
        bump("P2", "integration blocked")
    capped = sandbox and not production_secret and category != "security"
    if capped and PRIORITY_ORDER[decision.priority] < PRIORITY_ORDER["P3"]:
        decision.priority = "P3"
        decision.reasons.append("sandbox only: capped at P3")
    if category == "feature_request" and not urgent and decision.priority != "P4":
        decision.priority = "P4"
        decision.reasons.append("feature request")
    return decision
