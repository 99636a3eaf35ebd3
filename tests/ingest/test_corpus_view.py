"""The section lookup and the hit screener read the index per hit, and give exactly what
they gave when they read every chunk into memory.

The oracle is the whole-corpus reading they replaced, kept here verbatim: sections
grouped from every live chunk, own domains counted over every page's texts, ingest-time
verdicts gathered from every chunk.  Compared on a real Grid index (embedded Chroma,
persisted lexical segments) for every hit of a handful of Grid questions, before and
after an edit that adds a delta segment and tombstones.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.knowledge import KnowledgeBase, build_knowledge_base
from app.settings import Settings
from app.triage.draft.candidates import read_sections
from ingest.corpus_view import LINKS_FILE
from ingest.lexical_store import SegmentedIndex
from ingest.retrieval import Hit
from ingest.screening import HitScreen, stored_reasons
from ingest.sections import SectionLookup, SectionPart, _order, _strip_overlap, window_opening
from ingest.untrusted import REASONS, PassageScreener, vocabulary
from ingest.untrusted_links import host_of, hosts_in, registrable_domain
from ingest.vectorstore import StoredChunk

POISONED = Path(__file__).resolve().parents[1] / "fixtures" / "poisoned_docs"
PAGES = [
    "docs/guides/api-reference/authentication.md",
    "docs/guides/api-reference/webhooks.md",
    "docs/guides/api-reference/sandbox-testing.md",
    "docs/guides/api-reference/environments.md",
    "docs/api-reference/cross-currency-transfers/executeQuote.md",
    "docs/guides/platform-overview/core-concepts/quote-system.md",
    "docs/guides/platform-overview/core-concepts/transaction-lifecycle.md",
]
QUESTIONS = [
    "every call is 401 UNAUTHORIZED in production, same client id and secret as sandbox",
    "POST /quotes/{quoteId}/execute returns 409 QUOTE_EXPIRED, how long is a quote valid?",
    "How do I verify the webhook signature? Show me the code in Python",
    "How do I test a failed payout in sandbox?",
    "I lost my client secret, how do I recover my credentials?",
    "What are the states of a transaction and when is it final?",
    "which IP addresses do webhooks come from",
    "How do I authenticate my API requests?",
]


# -- the whole-corpus reading, as it was ----------------------------------------------------


class OldSections:
    def __init__(self, chunks: Sequence[StoredChunk]) -> None:
        grouped: dict[tuple[str, str], list[StoredChunk]] = defaultdict(list)
        for chunk in chunks:
            key = (str(chunk.metadata.get("doc_id", "")), str(chunk.metadata.get("heading", "")))
            grouped[key].append(chunk)
        for group in grouped.values():
            group.sort(key=_order)
        self.sections = dict(grouped)
        self.by_index = {(str(c.metadata.get("doc_id", "")), _order(c)): c for c in chunks}

    def parts(
        self, chunk_id: str, doc_id: str, heading: str, *, max_parts: int = 4
    ) -> list[SectionPart]:
        chunks = self.sections.get((doc_id, heading), [])
        position = next((i for i, c in enumerate(chunks) if c.chunk_id == chunk_id), None)
        if position is None:
            return []
        start = max(0, min(position - 1, len(chunks) - max_parts))
        window = chunks[start : start + max_parts]
        parts: list[SectionPart] = []
        for offset, chunk in enumerate(window):
            text = chunk.text
            if offset:
                text = _strip_overlap(window[offset - 1].text, text)
            elif _order(chunk) > 0:
                # How a window opening mid-line starts (the new reading).
                before = self.by_index.get((doc_id, _order(chunk) - 1))
                if before is not None:
                    head, text = window_opening(before, text)
                    parts += [head] if head is not None else []
            if text:
                parts.append(SectionPart(chunk.chunk_id, text))
        return parts


def old_allowed(chunks: Sequence[StoredChunk]) -> frozenset[str]:
    vocab = vocabulary()
    rules = vocab.links
    poisoned = PassageScreener(frozenset(), vocab).poisoned
    texts: dict[str, list[str]] = defaultdict(list)
    urls: set[str] = set()
    for chunk in chunks:
        texts[str(chunk.metadata.get("doc_id", chunk.chunk_id))].append(chunk.text)
        if isinstance(chunk.metadata.get("doc_url"), str):
            urls.add(str(chunk.metadata["doc_url"]))
    allowed = {registrable_domain(host_of(u)[0], rules) for u in urls if "://" in u}
    linked: Counter[str] = Counter()
    linking: dict[str, list[str]] = {}
    for group in texts.values():
        domains: set[str] = set()
        for text in group:
            found = {registrable_domain(h, rules) for h in hosts_in(text) if h}
            for domain in found - allowed:
                linking.setdefault(domain, []).append(text)
            domains |= found
        linked.update(domains)
    needed = max(rules.min_docs, math.ceil(rules.min_share * len(texts)))
    counted = {d for d, n in linked.items() if n >= needed} - allowed
    counted = {d for d in counted if not any(poisoned(t) for t in linking.get(d, ()))}
    return frozenset(d for d in (allowed | counted) - rules.shorteners if d)


class OldScreen:
    """Verdicts as the screener gave them from every chunk in memory."""

    def __init__(self, chunks: Sequence[StoredChunk]) -> None:
        self.screener = PassageScreener(old_allowed(chunks), vocabulary())
        self.stored: dict[str, set[str]] = {}
        self.pages: dict[str, set[str]] = defaultdict(set)
        for chunk in chunks:
            if reasons := stored_reasons(chunk.metadata):
                self.stored[chunk.chunk_id] = set(reasons)
                self.pages[str(chunk.metadata.get("doc_id", chunk.chunk_id))] |= set(reasons)

    def reasons(self, passage: Hit | StoredChunk) -> tuple[str, ...]:
        found = set(self.screener.screen(passage.text).reasons)
        found |= self.stored.get(passage.chunk_id, set())
        found |= self.pages.get(str(getattr(passage, "doc_id", "") or ""), set())
        return tuple(r for r in REASONS if r in found)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, grid_root: Path) -> Path:
    root = tmp_path_factory.mktemp("view-corpus")
    for rel in PAGES:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(grid_root / rel, target)
    shutil.copytree(POISONED, root / "poisoned_docs")
    return root


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, corpus: Path, models_dir: Path) -> KnowledgeBase:
    settings = Settings(data_dir=tmp_path_factory.mktemp("view-data"), models_dir=models_dir)
    knowledge = build_knowledge_base(settings, refresh_seconds=0)
    assert knowledge.synchronizer().sync([corpus]).docs_failed == 0
    return knowledge


def _hits(kb: KnowledgeBase) -> list[Hit]:
    hits = [h for q in QUESTIONS for h in kb.retriever.search(q, 8)]
    assert len({h.doc_id for h in hits}) >= 5
    return hits


def _same_as_the_whole_corpus_reading(kb: KnowledgeBase) -> None:
    index = kb.retriever.lexical_index()
    assert isinstance(index, SegmentedIndex)
    everything = list(index.chunks)
    hits = _hits(kb)
    new, old = SectionLookup(kb.retriever), OldSections(everything)
    multi = 0
    for hit in hits:
        parts = new.parts(hit.chunk_id, hit.doc_id, hit.heading)
        assert parts == old.parts(hit.chunk_id, hit.doc_id, hit.heading), hit.chunk_id
        multi += len(parts) > 1
    assert multi, "some hit's section spans several chunks"
    # What the drafter reads from them: every section's text and block offsets.
    assert read_sections(hits, new) == read_sections(hits, old)  # type: ignore[arg-type]

    screen, old_screen = kb.retriever.hit_screen(), OldScreen(everything)
    assert screen.screener.allowed_domains == old_screen.screener.allowed_domains
    assert any(screen.reasons(hit) for hit in hits)
    passages: list[Hit | StoredChunk] = [*hits, *everything]
    for passage in passages:  # the hits, and every chunk as `search --flagged` lists them
        assert screen.reasons(passage) == old_screen.reasons(passage), passage.chunk_id


# -- tests ----------------------------------------------------------------------------------


def test_per_hit_reads_equal_the_whole_corpus_reading(kb: KnowledgeBase) -> None:
    _same_as_the_whole_corpus_reading(kb)
    usable, withheld = kb.retriever.screen(_hits(kb))
    assert withheld
    assert all(h.source.startswith("poisoned_docs/") for h in withheld)
    assert not any(h.source.startswith("poisoned_docs/") for h in usable)


def test_an_edited_page_is_read_anew_after_the_sync(kb: KnowledgeBase, corpus: Path) -> None:
    lookup = SectionLookup(kb.retriever)
    page = corpus / "docs/guides/api-reference/authentication.md"
    hits = kb.retriever.search("How do I authenticate my API requests?", 8)
    before = next(h for h in hits if h.source.endswith("api-reference/authentication.md"))
    section = lookup.parts(before.chunk_id, before.doc_id, before.heading)
    assert "Zanzibar" not in " ".join(p.text for p in section)

    original = page.read_text()
    words = before.text.split()
    line = next(
        " ".join(words[i : i + 6])
        for i in range(len(words))
        if " ".join(words[i : i + 6]) in original and len(" ".join(words[i : i + 6])) > 25
    )
    page.write_text(original.replace(line, line + " Zanzibar tokens rotate daily.", 1))
    try:
        assert kb.synchronizer().sync([corpus]).docs_failed == 0
        index = kb.retriever.lexical_index()
        assert isinstance(index, SegmentedIndex)
        assert len(index.segments) > 1  # the edit went into a delta segment
        after = kb.retriever.search("Zanzibar tokens rotate daily", 3)[0]
        parts = lookup.parts(after.chunk_id, after.doc_id, after.heading)
        assert "Zanzibar" in " ".join(p.text for p in parts)
        assert lookup.parts(before.chunk_id, before.doc_id, before.heading) == []
        _same_as_the_whole_corpus_reading(kb)  # base + delta + tombstones
    finally:
        page.write_text(original)
        kb.synchronizer().sync([corpus])


def test_a_segment_without_a_link_summary_gets_one(kb: KnowledgeBase) -> None:
    index = kb.retriever.lexical_index()
    assert isinstance(index, SegmentedIndex)
    expected = HitScreen(index, index.revision).screener.allowed_domains
    for segment in index.segments:
        (segment.directory / LINKS_FILE).unlink()
    assert HitScreen(index, index.revision).screener.allowed_domains == expected
    assert all((s.directory / LINKS_FILE).exists() for s in index.segments)
