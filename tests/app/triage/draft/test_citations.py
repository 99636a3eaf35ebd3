"""Citation validation: only quotes that really occur in a retrieved chunk survive."""

from __future__ import annotations

import pytest

from app.triage.draft.citations import ProposedCitation, validate_citations
from ingest.retrieval import Hit

QUOTES = (
    "## Quote expiry\n\nA quote is valid for a limited time. Quotes expire after "
    "**30 seconds**;\nexecuting an expired quote returns `QUOTE_EXPIRED` and you must "
    "create a new quote. See [the quote lifecycle](/docs/quotes#lifecycle) for details."
)
WEBHOOKS = (
    "Every webhook carries an `X-Grid-Signature` header. Verify it with your webhook "
    "public key before trusting the payload. Grid’s “retry policy” backs off — up to "
    "five attempts."
)


def hit(chunk_id: str, text: str) -> Hit:
    return Hit(
        chunk_id=chunk_id,
        doc_id=f"doc-{chunk_id}",
        source=f"docs/{chunk_id}.md",
        title="T",
        url=f"https://docs.example.test/{chunk_id}",
        heading="H",
        score=0.5,
        text=text,
    )


HITS = [hit("q", QUOTES), hit("w", WEBHOOKS)]


def kept_quotes(proposed: list[dict[str, str]]) -> list[str]:
    kept, _ = validate_citations(proposed, HITS)
    return [c.quote for c in kept]


def reasons(proposed: list[dict[str, str]]) -> list[str]:
    _, rejected = validate_citations(proposed, HITS)
    return [r["reason"] for r in rejected]


def test_exact_quote_is_kept_with_source_fields_from_the_hit() -> None:
    kept, rejected = validate_citations(
        [{"chunk_id": "q", "quote": "A quote is valid for a limited time."}], HITS
    )
    assert rejected == []
    (citation,) = kept
    assert citation.chunk_id == "q"
    assert citation.doc_id == "doc-q"
    assert citation.source == "docs/q.md"
    assert citation.url == "https://docs.example.test/q"
    assert citation.quote == "A quote is valid for a limited time."


@pytest.mark.parametrize(
    "quote",
    [
        pytest.param("quotes expire after 30 seconds", id="case-and-emphasis"),
        pytest.param("Quotes   expire after\n30 seconds; executing an expired", id="whitespace"),
        pytest.param("returns QUOTE_EXPIRED and you must create a new quote", id="backticks"),
        pytest.param("returns `QUOTE_EXPIRED` and you must create a new quote", id="verbatim-md"),
        pytest.param("See the quote lifecycle for details", id="link-text"),
        pytest.param('"Quotes expire after 30 seconds."', id="wrapped-in-quotes"),
        pytest.param("Quotes expire after 30 seconds … you must create a new quote", id="ellipsis"),
        pytest.param("A quote is valid...you must create a new quote", id="three-dots"),
        pytest.param("...executing an expired quote returns", id="leading-dots"),
    ],
)
def test_faithful_copies_are_kept(quote: str) -> None:
    assert kept_quotes([{"chunk_id": "q", "quote": quote}]) == [" ".join(quote.split())]


def test_typographic_quotes_and_dashes_match_plain_ones() -> None:
    quote = 'Grid\'s "retry policy" backs off - up to five attempts'
    assert kept_quotes([{"chunk_id": "w", "quote": quote}]) == [quote]


@pytest.mark.parametrize(
    ("quote", "reason"),
    [
        pytest.param("Quotes expire after 15 minutes", "not_found", id="invented"),
        pytest.param("Verify it with your webhook public key", "not_found", id="other-chunk"),
        pytest.param(
            "you must create a new quote ... Quotes expire after 30 seconds",
            "not_found",
            id="fragments-out-of-order",
        ),
        pytest.param("the", "too_short", id="one-word"),
        pytest.param("30 seconds", "too_short", id="short-fact"),
        pytest.param("A quote ... is ... valid", "too_short", id="tiny-fragments"),
        pytest.param("…", "too_short", id="only-ellipsis"),
        pytest.param("**` `**", "too_short", id="only-markup"),
    ],
)
def test_unsupported_quotes_are_rejected_with_a_reason(quote: str, reason: str) -> None:
    assert reasons([{"chunk_id": "q", "quote": quote}]) == [reason]


def test_unknown_chunk_is_rejected_even_with_a_real_quote() -> None:
    assert reasons([{"chunk_id": "nope", "quote": "Quotes expire after 30 seconds"}]) == [
        "unknown_chunk"
    ]


def test_duplicates_and_malformed_entries_are_rejected() -> None:
    proposed: list[dict[str, str]] = [
        {"chunk_id": "q", "quote": "Quotes expire after 30 seconds"},
        {"chunk_id": "q", "quote": "quotes expire after **30 seconds**"},
        {"chunk_id": "q"},
    ]
    kept, rejected = validate_citations(proposed, HITS)
    assert len(kept) == 1
    assert [r["reason"] for r in rejected] == ["duplicate", "malformed"]


def test_models_and_mappings_are_both_accepted_and_order_is_kept() -> None:
    proposed: list[ProposedCitation | dict[str, str]] = [
        ProposedCitation(chunk_id="w", quote="Verify it with your webhook public key"),
        {"chunk_id": "q", "quote": "A quote is valid for a limited time"},
    ]
    kept, rejected = validate_citations(proposed, HITS)
    assert [c.chunk_id for c in kept] == ["w", "q"]
    assert rejected == []


def test_minimum_length_is_configurable() -> None:
    proposed = [{"chunk_id": "q", "quote": "30 seconds"}]
    kept, _ = validate_citations(proposed, HITS, min_quote_chars=8)
    assert [c.quote for c in kept] == ["30 seconds"]


def test_no_hits_means_no_citation_survives() -> None:
    kept, rejected = validate_citations([{"chunk_id": "q", "quote": QUOTES[:40]}], [])
    assert kept == []
    assert [r["reason"] for r in rejected] == ["unknown_chunk"]
