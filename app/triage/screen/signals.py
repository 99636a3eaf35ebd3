"""Developer signals pulled from a support message with rules, before any model sees it.

Everything here is cheap, deterministic and explainable: HTTP statuses, API error codes,
endpoints, request/idempotency ids, API version, SDK and language, environment, and two
urgency hints (money stuck, outage).  English, Spanish and Portuguese phrasings are
recognised where the wording matters.  Run it on the *redacted* text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from functools import cache
from http import HTTPStatus
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from app.triage import vocabulary
from app.triage.screen._signal_patterns import patterns
from app.triage.screen.id_shapes import UUID

__all__ = ["Endpoint", "Signals", "extract_signals", "fold"]

Environment = Literal["production", "sandbox"]


class Endpoint(BaseModel):
    """`path` is relative to the versioned base URL; `method` is None for a bare URL."""

    model_config = ConfigDict(frozen=True)

    method: str | None = None
    path: str


class Signals(BaseModel):
    model_config = ConfigDict(frozen=True)

    http_statuses: list[int] = Field(default_factory=list)
    error_codes: list[str] = Field(default_factory=list)
    unknown_error_codes: list[str] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    request_ids: list[str] = Field(default_factory=list)
    idempotency_keys: list[str] = Field(default_factory=list)
    api_version: str | None = None
    sdk: str | None = None
    programming_language: str | None = None
    environment: Environment | None = None
    mentions_money_stuck: bool = False
    mentions_outage: bool = False


def extract_signals(text: str, known_error_codes: Collection[str] = ()) -> Signals:
    rx, folded = patterns(), fold(text)
    # The wording cues read prose: a pasted id is one word there, not fifty characters that
    # push "withdrawal" and "PROCESSING for 6 hours" out of one sentence's reach.
    prose = _shortened_ids(folded)
    # Outage wording once "not an outage" phrasing is taken out (computed once, not per pattern).
    outage_text = vocabulary.without("not_an_outage", prose)
    known, unknown = _error_codes(text, frozenset(known_error_codes))
    sdk = _sdk(folded)
    statuses = _http_statuses(text)
    return Signals(
        http_statuses=statuses,
        error_codes=known,
        unknown_error_codes=unknown,
        endpoints=_endpoints(text),
        request_ids=_unique(v for v in _values(rx.request_id, text) if _has_digit(v)),
        idempotency_keys=_unique(v for v in _values((rx.idempotency_key,), text) if _has_digit(v)),
        api_version=_first_group(rx.api_version, text),
        sdk=sdk,
        programming_language=_language(text, sdk),
        environment=_environment(folded),
        mentions_money_stuck=any(r.search(prose) for r in rx.money_stuck),
        mentions_outage=not vocabulary.any_match("own_code_error", prose)
        and (
            any(r.search(outage_text) for r in rx.outage)
            or _failing_for_everyone(statuses, outage_text)
        ),
    )


def _failing_for_everyone(statuses: list[int], outage_text: str) -> bool:
    """A pasted 5xx with an onset and a scope: an outage reported without an outage word."""
    return (
        any(500 <= status < 600 for status in statuses)
        and bool(vocabulary.pattern("outage_onset").search(outage_text))
        and bool(vocabulary.pattern("outage_scope").search(outage_text))
    )


# Typographic quotes as typed on phones and in rich-text editors ("hasn’t", "what’s").
_ASCII_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def fold(text: str) -> str:
    """Lower-case, accent-free copy so "caído"/"produção"/"hasn’t" match plain ASCII patterns."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_QUOTES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# "transaction:019d7193-6d4e-...", a bare uuid, or a 32+ character hex hash (a txid).
_PASTED_ID = re.compile(rf"\b(?:([a-z]+):)?{UUID}\b|\b[0-9a-f]{{32,}}\b")


def _shortened_ids(folded: str) -> str:
    """Each pasted id replaced by its type word ("transaction") or "id"."""
    return _PASTED_ID.sub(lambda m: m.group(1) or "id", folded)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _has_digit(value: str) -> bool:
    return any(c.isdigit() for c in value)


def _values(regexes: Iterable[re.Pattern[str]], text: str) -> list[str]:
    """The `value` group of every match, in the order they appear in the text."""
    found = [(m.start(), m.group("value")) for r in regexes for m in r.finditer(text)]
    return [value for _, value in sorted(found)]


def _first_group(regex: re.Pattern[str], text: str) -> str | None:
    m = regex.search(text)
    return next((g for g in m.groups() if g), None) if m else None


# --- statuses and error codes -------------------------------------------------------------


def _http_statuses(text: str) -> list[int]:
    rx, found = patterns(), []
    for strong in rx.status_strong:
        found += [(m.start(), int(m.group("code"))) for m in strong.finditer(text)]
    for weak in rx.status_weak:
        # Loose contexts ("got a 422") only count for registered status codes.
        found += [
            (m.start(), int(m.group("code")))
            for m in weak.finditer(text)
            if int(m.group("code")) in _registered_statuses()
        ]
    return list(dict.fromkeys(code for _, code in sorted(found) if 100 <= code <= 599))


@cache
def _registered_statuses() -> frozenset[int]:
    return frozenset(int(s) for s in HTTPStatus)


def _error_codes(text: str, known: frozenset[str]) -> tuple[list[str], list[str]]:
    found: list[tuple[int, str]] = []
    if known:
        by_upper, regex = _known_code_matcher(known)
        for m in regex.finditer(text):
            canonical = by_upper[m.group().upper()]
            # Single words ("FORBIDDEN") must be written as codes, not as prose ("forbidden").
            if "_" in canonical or m.group() == canonical:
                found.append((m.start(), canonical))
    unknown = []
    for m in patterns().code_field.finditer(text):
        code = m.group("code")
        if code.upper() not in {k.upper() for k in known}:
            unknown.append(code)
    return _unique(code for _, code in sorted(found)), _unique(unknown)


@cache
def _known_code_matcher(known: frozenset[str]) -> tuple[dict[str, str], re.Pattern[str]]:
    by_upper = {code.upper(): code for code in known}
    alternatives = "|".join(re.escape(c) for c in sorted(by_upper, key=len, reverse=True))
    return by_upper, re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])", re.I)


# --- endpoints ----------------------------------------------------------------------------


def _endpoints(text: str) -> list[Endpoint]:
    rx = patterns()
    found: list[tuple[int, str | None, str]] = []
    for m in rx.method_path.finditer(text):
        found.append((m.start(), m.group("method").upper(), m.group("target")))
    for m in rx.client_call.finditer(text):
        found.append((m.start(), m.group("method").upper(), m.group("target")))
    for m in rx.curl.finditer(text):
        command = m.group()
        url = rx.url.search(command)
        if url:
            found.append((m.start(), _curl_method(command), url.group()))
    for m in rx.api_url.finditer(text):
        found.append((m.start(), None, m.group()))
    endpoints: dict[tuple[str | None, str], None] = {}
    for _, method, target in sorted(found, key=lambda f: f[0]):
        path = _api_path(target)
        if path:
            endpoints.setdefault((method, path), None)
    with_method = {path for method, path in endpoints if method}
    return [
        Endpoint(method=method, path=path)
        for method, path in endpoints
        if method or path not in with_method  # a bare URL adds nothing once its method is known
    ]


def _curl_method(command: str) -> str:
    explicit = re.search(r"(?:-X\s*|--request[\s=]+)[\"']?([A-Za-z]+)", command)
    if explicit:
        return explicit.group(1).upper()
    if re.search(r"\s(?:-I|--head)\b", command):
        return "HEAD"
    return "POST" if re.search(r"\s(?:-d|--data[\w-]*|--json|-F|--form)\b", command) else "GET"


def _api_path(target: str) -> str | None:
    target = target.rstrip(".,;:)]'\"`>")
    while target.endswith("}") and target.count("}") > target.count("{"):
        target = target[:-1]
    if target.startswith(("$", "{")):
        target = re.sub(r"^\$?\{?\w+\}?", "", target)
    elif "://" in target:
        target = urlsplit(target).path
    path = re.split(r"[?#]", target, maxsplit=1)[0]
    path = re.sub(r"^(?:/grid)?/\d{4}-\d{2}-\d{2}(?=/|$)|^/grid(?=/|$)", "", path)
    segments = [_template(s) for s in path.split("/") if s]
    return "/" + "/".join(segments) if segments else None


def _template(segment: str) -> str:
    """Concrete ids become {id} so the path lines up with the OpenAPI operation."""
    if patterns().id_segment.fullmatch(segment):
        return "{id}"
    return segment


# --- SDK, language, environment -----------------------------------------------------------


def _sdk(folded: str) -> str | None:
    for regex, name in patterns().sdk:
        m = regex.search(folded)
        if m:
            return name.format(*m.groups())
    return None


def _language(text: str, sdk: str | None) -> str | None:
    scores: dict[str, int] = {}
    for language, regex, weight in patterns().language:
        hits = len(regex.findall(text))
        if hits:
            scores[language] = scores.get(language, 0) + weight * min(hits, 3)
    if sdk == "grid-js-sdk":
        scores["javascript"] = scores.get("javascript", 0) + 2
    elif sdk == "grid-kotlin-sdk":
        scores["kotlin"] = scores.get("kotlin", 0) + 2
    if scores.get("typescript"):  # TypeScript evidence is JavaScript evidence too
        scores["typescript"] += scores.pop("javascript", 0)
    # A curl repro next to real code says little about the stack the customer runs.
    code = {k: v for k, v in scores.items() if k != "curl"}
    if code:
        return max(code, key=lambda k: code[k])
    return "curl" if "curl" in scores else None


def _environment(folded: str) -> Environment | None:
    rx = patterns()
    # "sandbox works fine" says where the problem is not.
    folded = vocabulary.without("environment_unaffected", folded)
    if rx.prod_strong.search(folded) or vocabulary.any_match("live_traffic", folded):
        return "production"
    if rx.sandbox_strong.search(folded):
        return "sandbox"
    prod, sandbox = bool(rx.prod_weak.search(folded)), bool(rx.sandbox_weak.search(folded))
    if prod != sandbox:
        return "production" if prod else "sandbox"
    return None
