"""Base64 segments that decode to readable text, so the text inside can be screened.

``Y2xpZW50X3NlY3JldD05UXo3…`` is ``client_secret=9Qz7…``: a developer who base64-encodes a
config line still pasted the secret.  Binary payloads (hashes, signatures, ids) do not
decode to text and are skipped at once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

__all__ = ["decoded_segments"]

# Both cases present: base64 of text always mixes them; ids, hex and constants rarely do.
_SEGMENT = re.compile(
    r"(?<![A-Za-z0-9+/=_\-])(?=[A-Za-z0-9+/_\-]*[A-Z])(?=[A-Za-z0-9+/_\-]*[a-z])"
    r"[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/=_\-])"
)
_MIN_DECODED = 8


def decoded_segments(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, decoded text) for each base64 segment of ``text`` that is text."""
    for m in _SEGMENT.finditer(text):
        decoded = _decode(m.group())
        if decoded is not None:
            yield m.start(), m.end(), decoded


def _decode(segment: str) -> str | None:
    body = segment.rstrip("=")
    if len(body) % 4 == 1:
        return None  # no base64 encoding has this length
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if len(decoded) < _MIN_DECODED:
        return None
    printable = sum(c.isprintable() or c in "\n\r\t" for c in decoded)
    return decoded if printable >= 0.95 * len(decoded) else None
