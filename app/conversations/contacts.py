"""The developer's contact on a /help ticket: validating an email address and showing
it without revealing it (logs and public pages only ever see the masked form)."""

from __future__ import annotations

import re
import unicodedata

from app.store.contacts import MAX_EMAIL_CHARS, MAX_NAME_CHARS

# Deliberately plain: an ASCII local part and a dotted domain of DNS labels.  No quoted
# local parts, comments or IP literals: nothing that could smuggle a header (CR/LF) or a
# second recipient into the SMTP envelope.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")


def normalise_email(value: str) -> str:
    """The address as stored (domain lower-cased); ValueError when it is not one."""
    address = value.strip()
    if len(address) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(address):
        raise ValueError("not an email address (name@example.com)")
    local, domain = address.rsplit("@", 1)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError("not an email address (name@example.com)")
    return f"{local}@{domain.lower()}"


def normalise_name(value: str) -> str | None:
    """A display name on one line, without control characters; None when empty."""
    cleaned = "".join(
        " " if unicodedata.category(ch).startswith("C") else ch for ch in value
    ).strip()
    cleaned = " ".join(cleaned.split())[:MAX_NAME_CHARS]
    return cleaned or None


def mask_email(address: str | None) -> str | None:
    """``j…@example.com``: enough to recognise one's own address, not to harvest it."""
    if not address or "@" not in address:
        return None
    local, domain = address.rsplit("@", 1)
    return f"{local[:1]}…@{domain}"


def conversation_path(token: str) -> str:
    """The developer's conversation page, relative to the service's base URL."""
    return f"/help/c/{token}"
