"""Secret redaction: the first thing done to every inbound support message.

Nothing downstream (LLM prompt, embedding, log line, database row) may see a credential a
developer pasted, so each one is replaced in place by a typed placeholder
``[REDACTED:<kind>]``.

Detection runs on a normalised view of the text (normalise.py: NFKC, zero-width and bidi
characters removed, Cyrillic/Greek lookalikes folded in mixed tokens), on tokens wrapped
over two lines joined back, and inside base64 segments that decode to text (_encoded.py);
spans are mapped back so the original characters are what gets replaced.  Secrets written
as sentences ("my client secret is …", "mi contraseña es …", "the 12 words are …") come
from cue words in ``secret_cues.yaml`` (_prose_secrets.py).  Kinds:

- ``private_key``: PEM/OpenSSH/PGP/PuTTY blocks (BEGIN..END, or to the end of a truncated
  body), WIF/xprv/nsec keys, values of ``private_key``/``signing_key`` fields
- ``recovery_phrase``: >= 12 consecutive, mostly distinct English BIP-39 words, or 12-24
  words of phrase shape after a cue ("seed words:", "frase de recuperación")
- ``api_secret``: the secret of ``curl -u id:secret`` / ``auth=(id, secret)``, and
  ``client_secret``/``api_key``/``secret`` style assignments (text, JSON, env, headers)
- ``client_id``: the id half of those pairs (also a bare ``<uuid>:<secret>`` and
  ``Bearer id:secret``), ``client_id``/``token_id`` assignments
- ``access_token``: ``access_token``/``refresh_token``/``token`` assignments
- ``bearer_token``: ``Authorization: Bearer <token>``; ``jwt``: three-part JSON Web Tokens
- ``basic_auth``: ``scheme://user:PASS@host`` and ``Authorization: Basic <base64>``
- ``webhook_secret``: ``whsec_…`` and ``webhook_secret``/``signing_secret`` assignments
- ``password``: ``password``/``passwd``/``pwd``/``contraseña``/``senha`` assignments
- ``card_number``: 13-19 digits, Luhn-valid, first digit 2-6, card-style grouping
- vendor tokens: ``aws_access_key``, ``aws_secret_key``, ``github_token``, ``gitlab_token``,
  ``stripe_key``, ``slack_token``, ``openai_key``, ``anthropic_key``, ``google_api_key``,
  ``sendgrid_key``, ``npm_token``, ``pypi_token``, ``twilio_key``, ``discord_token``,
  ``telegram_token``, ``mailchimp_key``, ``square_secret``, ``azure_storage_key``, and the
  prefixed tokens listed in ``secret_cues.yaml`` (``huggingface_token``, ``vault_token``…)
- ``generic_high_entropy``: a random-looking *quoted* string whose key is not id-like

``production_credential`` (raises priority to P1 / category security) is true when a
private key or recovery phrase is present, or when any credential kind (all but
``client_id``, ``card_number``, ``generic_high_entropy``) comes with production context:
a live-mode key (``sk_live_``), words such as prod/production/go live/mainnet/producción/
produção, or an API URL (``//api.`` host or ``/grid/`` path) while nothing in the message
says sandbox/test/staging/localhost.  Grid's sandbox shares the production host, so an
unknown environment fails safe to production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.triage.screen._encoded import decoded_segments
from app.triage.screen._prose_secrets import prose_hits
from app.triage.screen._secret_patterns import (
    PAIR_PRIORITY,
    PRIORITY,
    VENDOR_PRIORITY,
    generic_plugins,
    rx,
    value_patterns,
    vendor_plugins,
)
from app.triage.screen._shapes import bip39_phrase_spans, card_spans
from app.triage.screen.normalise import View, joined_view, normalised_view

__all__ = ["Redaction", "RedactionResult", "placeholder_for", "redact_secrets"]


class Redaction(BaseModel):
    """One distinct secret that was removed; carries no part of the secret itself."""

    model_config = ConfigDict(frozen=True)

    kind: str
    placeholder: str


class RedactionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    redactions: list[Redaction] = Field(default_factory=list)
    # Internal flags for priority/category rules; not part of the public ticket contract.
    production_credential: bool = False
    recovery_phrase: bool = False

    @property
    def redacted(self) -> bool:
        """True exactly when some text was replaced by a placeholder."""
        return bool(self.redactions)

    @property
    def kinds(self) -> list[str]:
        return sorted({r.kind for r in self.redactions})


def placeholder_for(kind: str) -> str:
    return f"[REDACTED:{kind}]"


_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")
# Shorter than any credential the finders know: what is left of a hit beside a placeholder
# (a ':' between two placeholders, a quote) is punctuation, not a secret.
_MIN_SECRET_LENGTH = 8


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: str
    pair: bool = False  # one half of an explicit `id:secret` pair (curl -u, auth=(…), URL)


_NOT_CREDENTIALS = frozenset({"client_id", "card_number", "generic_high_entropy"})


def redact_secrets(text: str) -> RedactionResult:
    view = normalised_view(text)
    hits = _resolve_overlaps(_hits_in(view))
    if not hits:
        return RedactionResult(text=text)
    pieces: list[str] = []
    cursor = 0
    distinct: dict[tuple[str, str], None] = {}
    for hit in hits:
        pieces += [text[cursor : hit.start], placeholder_for(hit.kind)]
        # One entry per distinct secret: the same token pasted twice is one exposure.
        distinct.setdefault((hit.kind, text[hit.start : hit.end]), None)
        cursor = hit.end
    pieces.append(text[cursor:])
    kinds = {hit.kind for hit in hits}
    return RedactionResult(
        text="".join(pieces),
        redactions=[Redaction(kind=k, placeholder=placeholder_for(k)) for k, _ in distinct],
        production_credential=_is_production_credential(view.text, kinds),
        recovery_phrase="recovery_phrase" in kinds,
    )


def _hits_in(view: View) -> list[_Hit]:
    """Hits in the normalised view, in base64 it holds and across wrapped lines, as spans
    of the original text."""
    hits = [_moved(hit, view) for hit in _find_all(view.text)]
    hits += [_moved(hit, view) for hit in _encoded_hits(view.text)]
    joined = joined_view(view)
    if joined is not None:
        hits += _wrapped_hits(joined)
    return hits


def _wrapped_hits(joined: View) -> Iterator[_Hit]:
    """Only what the join revealed: a token whose halves sit on two lines."""
    for start, end in joined.join_windows():
        for hit in _find_all(joined.text[start:end]):
            moved = _Hit(hit.start + start, hit.end + start, hit.kind, hit.pair)
            if joined.crosses_join(moved.start, moved.end):
                yield _moved(moved, joined)


def _moved(hit: _Hit, view: View) -> _Hit:
    start, end = view.span(hit.start, hit.end)
    return _Hit(start, end, hit.kind, hit.pair)


def _find_all(text: str) -> list[_Hit]:
    finders: tuple[Callable[[str], Iterator[_Hit]], ...] = (
        _key_blocks,
        _plugin_hits,
        _pattern_hits,
        _keyword_plugin_hits,
        _entropy_hits,
        _card_numbers,
        _recovery_phrases,
        _prose,
    )
    hits = [hit for finder in finders for hit in finder(text)]
    typed = [m.span("uuid") for m in rx("typed_identifier").finditer(text)]
    kept = [h for h in hits if not any(s <= h.start and h.end <= e for s, e in typed)]
    redacted = [m.span() for m in _PLACEHOLDER.finditer(text)]
    if not redacted:
        return kept
    return [t for t in (_outside(h, redacted, text) for h in kept) if t is not None]


def _outside(hit: _Hit, placeholders: list[tuple[int, int]], text: str) -> _Hit | None:
    """The hit's longest stretch outside earlier placeholders.  Text redacted once is
    screened again whenever a stored turn is (a conversation's history): a hit spanning a
    placeholder would mangle it and report a credential that is no longer there, while a
    secret glued to a placeholder must still go."""
    cuts = sorted((s, e) for s, e in placeholders if hit.start < e and s < hit.end)
    if not cuts:
        return hit
    pieces, cursor = [], hit.start
    for s, e in cuts:
        pieces.append((cursor, max(cursor, s)))
        cursor = max(cursor, e)
    pieces.append((cursor, max(cursor, hit.end)))
    start, end = max(pieces, key=lambda p: p[1] - p[0])
    while start < end and not text[start].isalnum():  # the ':' or quote beside it stays
        start += 1
    return _Hit(start, end, hit.kind, hit.pair) if end - start >= _MIN_SECRET_LENGTH else None


def _prose(text: str) -> Iterator[_Hit]:
    for start, end, kind in prose_hits(text):
        yield _Hit(start, end, kind)


def _encoded_hits(text: str) -> Iterator[_Hit]:
    """A base64 segment whose decoded text holds a secret is redacted whole."""
    for start, end, decoded in decoded_segments(text):
        inner = [h for h in _find_all(decoded) if h.kind != "generic_high_entropy"]
        if inner:
            yield _Hit(start, end, max(inner, key=_rank).kind)


def _resolve_overlaps(hits: list[_Hit]) -> list[_Hit]:
    ranked = sorted(hits, key=lambda h: (-_rank(h), h.start - h.end, h.start))
    chosen: list[_Hit] = []
    for hit in ranked:
        if hit.end > hit.start and all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def _rank(hit: _Hit) -> int:
    rank = PRIORITY.get(hit.kind, VENDOR_PRIORITY)
    return max(rank, PAIR_PRIORITY) if hit.pair else rank


def _lines(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.splitlines(keepends=True):
        yield offset, line
        offset += len(line)


def _spans_of(line: str, value: str) -> Iterator[tuple[int, int]]:
    start = line.find(value) if value else -1
    while start >= 0:
        yield start, start + len(value)
        start = line.find(value, start + len(value))


# --- finders ------------------------------------------------------------------------------


def _key_blocks(text: str) -> Iterator[_Hit]:
    detector = generic_plugins()["private_key"]
    for offset, line in _lines(text):
        if next(iter(detector.analyze_string(line)), None) is None:
            continue
        begin = rx("pem_begin").search(line)
        start = offset + (begin.start() if begin else len(line) - len(line.lstrip()))
        end = rx("key_end").search(text, start)
        next_begin = rx("pem_begin").search(text, start + 5)
        if end and (next_begin is None or end.start() < next_begin.start()):
            yield _Hit(start, end.end(), "private_key")
        else:  # truncated paste: swallow the base64 body that follows, stop at prose
            body = rx("key_body").match(text, start)
            yield _Hit(start, body.end() if body else len(text), "private_key")
    for m in rx("bare_private_key").finditer(text):
        yield _Hit(m.start(), m.end(), "private_key")


def _plugin_hits(text: str) -> Iterator[_Hit]:
    # analyze_string, not analyze_line: the latter may call plugin.verify(), i.e. the network.
    for offset, line in _lines(text):
        if not rx("long_token").search(line):
            continue  # every vendor token is a long unbroken run; skip prose lines cheaply
        for kind, plugin in vendor_plugins().items():
            for value in set(plugin.analyze_string(line)):
                for found in _spans_of(line, value):
                    start, end = _widen(line, *found, kind)
                    secret_id = kind == "aws_access_key" and not rx("aws_key_id").fullmatch(
                        line[start:end]
                    )
                    yield _Hit(
                        offset + start, offset + end, "aws_secret_key" if secret_id else kind
                    )


def _widen(line: str, start: int, end: int, kind: str) -> tuple[int, int]:
    """Plugins report part of some tokens (a JWT without its signature, 24 chars of a key)."""
    if kind == "azure_storage_key" and line.startswith("AccountKey=", start):
        return start + len("AccountKey="), end
    token_char = rx("token_char")
    while start > 0 and token_char.match(line[start - 1]) and line[start - 1] not in "=/.":
        start -= 1
    while end < len(line) and token_char.match(line[end]):
        end += 1
    while end > start and line[end - 1] in ".-":
        end -= 1  # sentence punctuation after a pasted token
    return start, end


def _pattern_hits(text: str) -> Iterator[_Hit]:
    for regex, kind in value_patterns():
        for m in regex.finditer(text):
            if not _plausible(m.group("secret"), kind):
                continue  # "-u abc:{apikey}" is a template, and its id half is no credential
            pair = "id" in regex.groupindex
            yield _Hit(m.start("secret"), m.end("secret"), kind, pair)
            if pair and _plausible(m.group("id"), "client_id"):
                yield _Hit(m.start("id"), m.end("id"), "client_id", pair)
    for regex in (rx("kv_quoted"), rx("kv_unquoted"), rx("xml_element")):
        yield from _assignment_hits(regex, text)


def _assignment_hits(regex: re.Pattern[str], text: str) -> Iterator[_Hit]:
    """Key/value hits, including an assignment nested inside an innocuous match.

    finditer resumes after each whole match, so an innocuous key hides whatever its match
    swallowed: in "My config: client_secret=…" the value of `config` is `client_secret=…`, and
    in "A=public_id B_SECRET=…" the two-word key `public_id B_SECRET` is discarded as public.
    A match that yields no secret therefore only moves the search on by one character, so every
    later word start (the lookbehind allows no other) is still tried as a key.
    """
    pos = 0
    while (m := regex.search(text, pos)) is not None:
        key_kind = _kind_for_key(m.group("key"))
        if key_kind and _plausible(m.group("secret"), key_kind):
            yield _Hit(m.start("secret"), m.end("secret"), key_kind)
            pos = m.end()
        else:
            pos = m.start() + 1


def _keyword_plugin_hits(text: str) -> Iterator[_Hit]:
    plugin, keyword = generic_plugins()["keyword"], rx("keyword_hint")
    for offset, line in _lines(text):
        if not keyword.search(line):
            continue  # the plugin's regexes are slow; most lines name no secret at all
        for value in set(plugin.analyze_string(line)):
            for start, end in _spans_of(line, value):
                kind = _kind_for_key(_key_before(line, start))
                if kind and _plausible(value, kind):
                    yield _Hit(offset + start, offset + end, kind)


def _key_before(line: str, start: int) -> str | None:
    # A bounded look-back keeps this linear on megabyte-long minified JSON lines.
    m = rx("key_before").search(line[max(0, start - 120) : start])
    return m.group("key") if m else None


def _kind_for_key(key: str | None) -> str | None:
    if not key:
        return None
    norm = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[\s.\-]+", "_", key.strip()).lower()
    if re.search(r"public|encrypted|transaction_token", norm) or not rx("secret_key").search(norm):
        return None
    if norm.endswith("id"):
        return "client_id"
    if "secret_access_key" in norm:
        return "aws_secret_key"
    if "webhook" in norm or "signing_secret" in norm:
        return "webhook_secret"
    if re.search(r"priv(ate)?_?key$|signing_?key$", norm):
        return "private_key"
    if re.search(r"pass|pwd|contrase|senha", norm):
        return "password"
    return "access_token" if norm.endswith("token") else "api_secret"


def _plausible(value: str, kind: str) -> bool:
    """Reject placeholders, env-var references and words that merely sit where secrets go."""
    if len(value) < (4 if kind == "password" else 6) or rx("placeholder").fullmatch(value):
        return False
    if rx("code_reference").fullmatch(value):
        return False
    # Real secrets are random: a bare word ("required", "Authentication") is not one.
    return kind in {"password", "client_id"} or not re.fullmatch(r"[A-Z]?[a-z]+", value)


def _entropy_hits(text: str) -> Iterator[_Hit]:
    plugins = generic_plugins()
    for offset, line in _lines(text):
        for plugin, min_len in ((plugins["base64"], 20), (plugins["hex"], 32)):
            for value in set(plugin.analyze_string(line)):
                if len(value) < min_len or not _looks_random(plugin, value):
                    continue
                for start, end in _spans_of(line, value):
                    if not _benign_context(line[max(0, start - 48) : start]):
                        yield _Hit(offset + start, offset + end, "generic_high_entropy")


def _benign_context(before: str) -> bool:
    """Random strings next to these words are identifiers or public material, not secrets."""
    return bool(rx("benign_context").search(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", before)))


def _looks_random(plugin: Any, value: str) -> bool:
    if rx("benign_value").fullmatch(value) or rx("public_identifier").match(value):
        return False
    if not (re.search(r"\d", value) and re.search(r"[A-Za-z]", value)):
        return False
    return bool(plugin.calculate_shannon_entropy(value) > plugin.entropy_limit)


def _card_numbers(text: str) -> Iterator[_Hit]:
    for start, end in card_spans(text):
        yield _Hit(start, end, "card_number")


def _recovery_phrases(text: str) -> Iterator[_Hit]:
    for start, end in bip39_phrase_spans(text):
        yield _Hit(start, end, "recovery_phrase")


def _is_production_credential(text: str, kinds: set[str]) -> bool:
    if kinds & {"private_key", "recovery_phrase"}:
        return True
    if not kinds - _NOT_CREDENTIALS:
        return False
    if rx("production_words").search(text):
        return True
    return not rx("sandbox_words").search(text) and bool(rx("api_url").search(text))
