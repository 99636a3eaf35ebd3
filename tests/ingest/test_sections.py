"""A hit's section as the drafter reads it: whole lines, blocks where the source had them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ingest.corpus_view import Where, matches
from ingest.sections import SectionLookup, joined_parts
from ingest.vectorstore import StoredChunk

DOC = "docs/api-reference/webhooks/account-status"


@dataclass
class _Index:
    chunks: list[StoredChunk]
    revision: int = 1
    generation: str = "g"

    def doc_chunks(self, doc_id: str, where: Where | None = None) -> list[StoredChunk]:
        return [
            c for c in self.chunks if c.metadata["doc_id"] == doc_id and matches(c.metadata, where)
        ]


@dataclass
class _Source:
    chunks: list[StoredChunk] = field(default_factory=list)

    def lexical_index(self) -> _Index:
        return _Index(self.chunks)


def _chunk(index: int, heading: str, text: str) -> StoredChunk:
    meta = {"doc_id": DOC, "heading": heading, "chunk_index": index}
    return StoredChunk(f"c{index}", text, meta)


ENUM = ", ".join(f"`ACCOUNT.EVENT_{i:03d}`" for i in range(40))


def test_a_section_that_opens_inside_a_giant_line_starts_at_its_next_whole_line() -> None:
    # The chunker cut a field's long enum line; the cut's first half was filed with the
    # previous heading (a small section merged into it), the tail opens the Payload section.
    source = _Source(
        [
            _chunk(
                0,
                "Event types",
                "- `ACCOUNT.UPDATED`: fired on change.\n\n## Payload\n\n"
                "- `type` (string, required): Event type. Allowed values:",
            ),
            _chunk(
                1,
                "Payload",
                f"{ENUM}, `ACCOUNT.CLOSED` ….\n- `timestamp` (string): When the webhook was sent",
            ),
            _chunk(
                2, "Payload", "- `customerId` (string): The customer, or null for the platform."
            ),
        ]
    )
    parts = SectionLookup(source).parts("c2", DOC, "Payload")
    text, _ = joined_parts(parts)
    assert text.startswith("- `timestamp` (string)")
    assert "ACCOUNT.CLOSED" not in text
    assert "- `customerId`" in text


def test_a_section_that_opens_inside_an_ordinary_line_gets_the_line_whole() -> None:
    # The sentence splitter cut after the colon inside inline code (grid_holdout_n's sandbox
    # KYC table drafted as "INDIVIDUAL`) determine the customer's ...").
    source = _Source(
        [
            _chunk(0, "KYC", "Sandbox rules.\n\nThe suffix of `fullName` (with `customerType:"),
            _chunk(1, "KYC", "INDIVIDUAL`) determines the `kycStatus` at creation:"),
            _chunk(2, "KYC", "| Suffix | kycStatus |\n|---|---|\n| 001 | PENDING |"),
            _chunk(3, "KYC", "Submitting needs the same data as production."),
            _chunk(4, "KYC", "Persist the returned id."),
        ]
    )
    parts = SectionLookup(source).parts("c2", DOC, "KYC")  # the window opens at c1
    text, _ = joined_parts(parts)
    assert text.startswith(
        "The suffix of `fullName` (with `customerType: INDIVIDUAL`) determines the `kycStatus`"
    )
    assert "| 001 | PENDING |" in text


def test_a_section_that_opens_at_a_paragraph_keeps_it() -> None:
    source = _Source(
        [
            _chunk(0, "Intro", "Grid sends webhooks for account changes."),
            _chunk(1, "Payload", "Every webhook carries the fields below.\n- `id` (string)"),
            _chunk(2, "Payload", "- `type` (string): Event type."),
        ]
    )
    text, _ = joined_parts(SectionLookup(source).parts("c2", DOC, "Payload"))
    assert text.startswith("Every webhook carries the fields below.")


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        # A long line is only cut after a sentence's end, so an item with no final stop
        # ends its list, and a capitalised chunk after it is a paragraph of its own.
        (
            "The token must include:\n\n- `iat`: issued at\n- `exp`: expiry",
            "Grid stores the credential's identity from `iss` and `sub`.",
            "- `exp`: expiry\n\nGrid stores",
        ),
        # Nor after ")": grid_holdout_n ran "(300 cents USD for $1,000 transaction)" into
        # "Fees are deducted ..., so:".
        (
            "- **`gridApiVariableFeeAmount`**: Variable fee amount (300 cents)",
            "Fees are deducted from the sending amount, so:\n- **Fees**: $5.00",
            "(300 cents)\n\nFees are deducted",
        ),
    ],
)
def test_a_list_cut_at_its_end_is_not_run_into_the_next_paragraph(
    first: str, second: str, joined: str
) -> None:
    source = _Source([_chunk(0, "Token", first), _chunk(1, "Token", second)])
    text, _ = joined_parts(SectionLookup(source).parts("c1", DOC, "Token"))
    assert joined in text


def test_an_overlap_cut_inside_inline_code_is_replaced_by_its_whole_line() -> None:
    # grid_holdout_n: chunk 3 repeated chunk 2's last "sentence", which the splitter had cut
    # after the colon in `customerType: INDIVIDUAL`.
    line = (
        "The suffix of `fullName` on `POST /customers` (with `customerType: INDIVIDUAL`) "
        "determines the `kycStatus` at creation:"
    )
    source = _Source(
        [
            _chunk(0, "KYC", "Sandbox rules."),
            _chunk(1, "KYC", line),
            _chunk(
                2,
                "KYC",
                "INDIVIDUAL`) determines the `kycStatus` at creation:\n\n"
                "| Suffix | kycStatus |\n|---|---|\n| 001 | PENDING |",
            ),
            _chunk(3, "KYC", "Submitting needs the same data as production."),
            _chunk(4, "KYC", "Persist the returned id."),
        ]
    )
    text, _ = joined_parts(SectionLookup(source).parts("c3", DOC, "KYC"))  # opens at c2
    assert text.startswith(line + "\n\n| Suffix |")
    assert text.count("determines the `kycStatus`") == 1
