"""Slack markup both ways: the wire format to plain text (events in) and Markdown to
Slack mrkdwn with numbered source links (replies out)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

# Slack rejects text over 40k characters; leave room for the sources footer.
MAX_TEXT_CHARS: Final = 39_000
MAX_SOURCES: Final = 5

_LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|[^>]*)?>")
_LEADING_MENTIONS = re.compile(r"^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>)+[\s,:]*")


def plain_text(text: str, *, strip_leading_mention: bool = False) -> str:
    """Slack's wire format as the developer typed it: links, mentions and escapes undone.

    Redaction and signal extraction need the literal text (``<``/``>`` in code, bare
    URLs), and an ``app_mention`` starts with the bot's own mention, which is noise.
    """
    if strip_leading_mention:
        text = _LEADING_MENTIONS.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _USER.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(r"@\1", text)
    # Slack escapes exactly &, < and >; html.unescape also undoes those.  NUL carries
    # nothing a reader could see and no text column can hold it: dropped.
    return html.unescape(text).replace("\x00", "").strip()


def escape_mrkdwn(text: str) -> str:
    """Slack's required escaping: without it `<` in a code sample would start a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_label(citation: Mapping[str, Any]) -> str:
    label = citation.get("title") or citation.get("source") or citation.get("doc_id") or "source"
    # `|` and `>` would end the link markup early.
    return escape_mrkdwn(str(label)).replace("|", "¦")


def format_reply(text: str, citations: Sequence[Mapping[str, Any]] = ()) -> str:
    """The approved text, escaped, with its cited pages as a short list of links."""
    # Slack's mrkdwn marks bold with one asterisk; Markdown's ** would show as-is.
    body = escape_mrkdwn(text.strip()).replace("**", "*")[:MAX_TEXT_CHARS]
    links: list[str] = []
    for position, citation in enumerate(citations, start=1):
        url = citation.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            continue
        if url in text or any(url in link for link in links):
            continue
        # Numbered as the text's [n] markers, so "[2]" finds its source.
        number = citation.get("marker") or position
        links.append(f"[{number}] <{url}|{_link_label(citation)}>")
        if len(links) == MAX_SOURCES:
            break
    if not links:
        return body
    return body + "\n\n*Sources*\n" + "\n".join(links)
