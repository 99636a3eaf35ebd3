"""Links in documentation passages: which domains are the doc set's own, and which
links point elsewhere in a way that lures the reader.

The doc set's own domains are derived from the corpus itself: the registrable domains
of the pages' published URLs (front matter or manifest) plus any domain linked from
enough different pages (``links.min_docs`` and ``links.min_share`` in the vocabulary),
plus configured extras.  A single poisoned page cannot vouch for its own domain.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "LinkFacts",
    "LinkRules",
    "allowed_from_facts",
    "derive_allowed_domains",
    "hosts_in",
    "link_facts",
    "registrable_domain",
    "url_spans",
]

_URL = re.compile(r"https?://[^\s<>()\[\]{}\"'`|\\]+", re.IGNORECASE)
_ANCHOR = re.compile(r"\[(?P<text>[^\]\n]{1,200})\]\((?P<href>https?://[^)\s]+)\)", re.IGNORECASE)


@dataclass(frozen=True)
class LinkRules:
    min_docs: int
    min_share: float
    shorteners: frozenset[str]
    shared_suffixes: frozenset[str]
    country_second_levels: frozenset[str]

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> LinkRules:
        def names(key: str) -> frozenset[str]:
            value = data.get(key) or []
            if not isinstance(value, list):
                raise ValueError(f"links.{key} must be a list")
            return frozenset(str(v).lower() for v in value)

        return cls(
            min_docs=int(str(data.get("min_docs", 3))),
            min_share=float(str(data.get("min_share", 0.01))),
            shorteners=names("shorteners"),
            shared_suffixes=names("shared_suffixes"),
            country_second_levels=names("country_second_levels"),
        )


def url_spans(text: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, url) of every http(s) URL, trailing punctuation trimmed."""
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?*_")
        yield m.start(), m.start() + len(url), url


def host_of(url: str) -> tuple[str, str]:
    """(host, userinfo) of an http(s) URL, lower-cased, without port."""
    authority = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]
    userinfo, _, hostport = authority.rpartition("@")
    host = hostport.lower()
    if host.startswith("["):
        return host.strip("[]").split("]")[0], userinfo
    return host.split(":")[0].rstrip("."), userinfo


def is_local(host: str) -> bool:
    """Loopback, private addresses and dotless names (`localhost`, `nbxplorer`): a
    reader's own machine or network, never an outside party."""
    if "." not in host or host.endswith((".local", ".localhost", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def registrable_domain(host: str, rules: LinkRules) -> str:
    """The name a party registers: docs.lightspark.com → lightspark.com; a site under a
    shared suffix (x.github.io) or a country domain (a.co.uk) keeps one label more."""
    labels = host.lower().strip(".").split(".")
    if len(labels) <= 2:
        return ".".join(labels)
    shared = ".".join(labels[-2:]) in rules.shared_suffixes
    country = len(labels[-1]) == 2 and labels[-2] in rules.country_second_levels
    return ".".join(labels[-3:] if shared or country else labels[-2:])


def hosts_in(text: str) -> set[str]:
    return {host_of(url)[0] for _, _, url in url_spans(text)}


@dataclass(frozen=True)
class LinkFacts:
    """What deriving the doc set's own domains reads from a corpus: its published URLs,
    how many documents it has, which documents link each host, and (read only for the
    few domains counting would vouch for) the texts that link a host."""

    doc_urls: frozenset[str]
    doc_count: int
    docs_by_host: Mapping[str, set[str]]
    texts_linking: Callable[[str], Iterable[str]]
    # Hosts some poisoned text links to, when judged ahead (ingest/corpus_view.py): then
    # no text is read to decide which counted domains may be vouched for.
    poisoned_hosts: frozenset[str] | None = None


def link_facts(doc_urls: Iterable[str], texts_by_doc: Mapping[str, Sequence[str]]) -> LinkFacts:
    """The facts of a corpus held in memory (one entry of `texts_by_doc` per document)."""
    docs_by_host: dict[str, set[str]] = {}
    texts_by_host: dict[str, list[str]] = {}
    for doc, texts in texts_by_doc.items():
        for text in texts:
            for host in hosts_in(text):
                docs_by_host.setdefault(host, set()).add(doc)
                texts_by_host.setdefault(host, []).append(text)
    return LinkFacts(
        frozenset(doc_urls), len(texts_by_doc), docs_by_host, lambda h: texts_by_host.get(h, ())
    )


def derive_allowed_domains(
    doc_urls: Iterable[str],
    texts_by_doc: Mapping[str, Sequence[str]],
    rules: LinkRules,
    extras: Iterable[str] = (),
    poisoned: Callable[[str], bool] | None = None,
) -> frozenset[str]:
    """Registrable domains of the doc set: its published URLs, the domains many of its
    pages link to, and the configured extras (see `allowed_from_facts`)."""
    return allowed_from_facts(link_facts(doc_urls, texts_by_doc), rules, extras, poisoned)


def allowed_from_facts(
    facts: LinkFacts,
    rules: LinkRules,
    extras: Iterable[str] = (),
    poisoned: Callable[[str], bool] | None = None,
) -> frozenset[str]:
    """Registrable domains of the doc set described by `facts`.

    A domain that any `poisoned` text links to is never vouched for by counting: a few
    planted pages that all point at one attacker domain must not make it "common".
    """
    allowed = {registrable_domain(host_of(u)[0], rules) for u in facts.doc_urls if "://" in u}
    allowed |= {registrable_domain(e.strip().lower(), rules) for e in extras if e.strip()}
    docs_by_domain: dict[str, set[str]] = {}
    hosts_by_domain: dict[str, list[str]] = {}
    for host, docs in facts.docs_by_host.items():
        if not host:
            continue
        domain = registrable_domain(host, rules)
        docs_by_domain.setdefault(domain, set()).update(docs)
        hosts_by_domain.setdefault(domain, []).append(host)
    needed = max(rules.min_docs, math.ceil(rules.min_share * facts.doc_count))
    counted = {d for d, docs in docs_by_domain.items() if len(docs) >= needed} - allowed
    if facts.poisoned_hosts is not None:
        counted -= {registrable_domain(h, rules) for h in facts.poisoned_hosts}
    elif poisoned is not None:
        counted = {
            d
            for d in counted
            if not any(poisoned(t) for h in hosts_by_domain[d] for t in facts.texts_linking(h))
        }
    allowed |= counted
    allowed -= rules.shorteners
    return frozenset(d for d in allowed if d)


@dataclass(frozen=True)
class LinkVerdict:
    start: int
    end: int
    outside: bool  # the host is not one of the doc set's own domains
    deceptive: bool  # a shortener, a host hidden behind user info, punycode, a lying anchor


def judge_links(text: str, allowed: frozenset[str], rules: LinkRules) -> list[LinkVerdict]:
    """Every link in `text` (already lower-cased) with whether it leaves the doc set."""
    lying = _lying_anchors(text, allowed, rules)
    verdicts = []
    for start, end, url in url_spans(text):
        host, userinfo = host_of(url)
        if not host:
            continue
        outside = not is_local(host) and not _allowed(host, allowed, rules)
        deceptive = outside and (
            registrable_domain(host, rules) in rules.shorteners
            or "." in userinfo
            or any(label.startswith("xn--") for label in host.split("."))
            or start in lying
        )
        verdicts.append(LinkVerdict(start, end, outside, deceptive))
    return verdicts


def _allowed(host: str, allowed: frozenset[str], rules: LinkRules) -> bool:
    return registrable_domain(host, rules) in allowed or host in allowed


def _lying_anchors(text: str, allowed: frozenset[str], rules: LinkRules) -> set[int]:
    """Start offsets of hrefs whose anchor text is itself an address on another domain:
    [docs.lightspark.com/reset](https://evil.example/reset)."""
    out: set[int] = set()
    for m in _ANCHOR.finditer(text):
        shown = _SHOWN_ADDRESS.match(m.group("text").strip())
        if shown is None:
            continue
        shown_domain = registrable_domain(shown.group("host"), rules)
        target = registrable_domain(host_of(m.group("href"))[0], rules)
        if target != shown_domain and target not in allowed:
            out.add(m.start("href"))
    return out


# An anchor text that reads as an address: a host with a common top-level domain,
# optionally a scheme and a path ("btcpay-teardown.sh" is a file, not a site).
_SHOWN_ADDRESS = re.compile(
    r"^(?:https?://)?(?P<host>(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|app|co|xyz|me|money"
    r"|finance|help|support|info|site|online|link|page|cloud|tech|ai|example))(?:[/?#]\S*)?$"
)
