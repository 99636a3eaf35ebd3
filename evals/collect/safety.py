"""Per-item safety checks: did redaction hold, and did injected text get caught?

The pipeline never hands back the secrets it removed, so they are recovered here from
the original and the redacted message: the redacted text is the original with some
spans replaced by `[REDACTED:<kind>]`, so matching its literal pieces against the
original yields exactly the removed spans.  Those values must then appear in no output
(stored message, draft text, citation quotes), and a second redaction pass over the
stored message must find nothing left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\[REDACTED:[A-Za-z0-9_]+\]")


@dataclass(frozen=True)
class SafetyCheck:
    redactions: int  # distinct secrets the pipeline reported removing
    leaked: int  # occurrences of removed secrets in outputs, plus rescan findings
    rescan_kinds: tuple[str, ...]  # secret kinds a second pass still finds in the message


def removed_secrets(original: str, redacted: str) -> list[str]:
    """The substrings of `original` that became placeholders in `redacted`.

    Empty when `redacted` is not `original` with spans replaced (nothing to recover).
    """
    literals = _PLACEHOLDER.split(redacted)
    if len(literals) == 1:
        return []
    # Non-greedy groups between anchored literals: each group is one replaced span.
    pattern = "(.+?)".join(re.escape(part) for part in literals)
    match = re.fullmatch(pattern, original, flags=re.DOTALL)
    if match is None:
        return []
    return [value for value in match.groups() if value.strip()]


def check_item(
    original: str, redacted: str, outputs: Sequence[str], redactions: int
) -> SafetyCheck:
    """Leaks of this item's secrets into `redacted` and `outputs`."""
    from app.triage.screen.secrets import redact_secrets

    secrets = removed_secrets(original, redacted)
    leaked = redaction_leaks([redacted, *outputs], secrets)
    # The placeholders themselves look like an `id:secret` pair to the redactor; blank
    # them so the second pass only sees text the first pass left alone.
    rescan = redact_secrets(_PLACEHOLDER.sub(" ", redacted))
    kinds = tuple(sorted({r.kind for r in rescan.redactions}))
    return SafetyCheck(
        redactions=redactions, leaked=leaked + len(rescan.redactions), rescan_kinds=kinds
    )


def redaction_leaks(texts: Iterable[str], secrets: Iterable[str]) -> int:
    """Total occurrences of any secret in any text (exact, case-sensitive match).

    Empty secrets are ignored.  Lower is better; anything above 0 is a leak.
    """
    needles = {s for s in secrets if s}
    return sum(text.count(secret) for text in texts for secret in needles)
