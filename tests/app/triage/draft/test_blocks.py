"""Schema dumps with variants: only the variant the developer asked about is quoted."""

from __future__ import annotations

from app.triage.draft.blocks import Block, other_variant_spans, schema_fields
from ingest.retrieval import Hit

DUMP = (
    "- `accountType` (string, required) Allowed values: `GBP_ACCOUNT`. "
    "- `sortCode` (string, required): The UK sort code\n"
    "    - `accountNumber` (string, required): UK bank account number (8 digits)\n"
    "  - **Variant 12: GhsExternalAccountCreateInfo**\n"
    "    - `accountType` (string, required) Allowed values: `GHS_ACCOUNT`.\n"
    "    - `accountNumber` (string): The account number of the bank\n"
)


def _kept(text: str, identifiers: tuple[str, ...]) -> list[str]:
    spans = other_variant_spans(text, identifiers)
    return [
        item
        for _, item in schema_fields(Block("list", text))
        if not any(start <= text.find(item) < end for start, end in spans)
    ]


def _hit(text: str, *, title: str = "Doc", heading: str = "Sending") -> Hit:
    return Hit(
        chunk_id="c1",
        doc_id="doc",
        source="doc.md",
        title=title,
        url=None,
        heading=heading,
        score=1.0,
        text=text,
    )


def test_a_named_variant_keeps_only_its_own_fields() -> None:
    kept = _kept(DUMP, ("GBP_ACCOUNT", "sortCode"))
    assert any("UK sort code" in item for item in kept)
    assert not any("GHS_ACCOUNT" in item for item in kept)


def test_a_block_of_only_a_sibling_variant_is_dropped() -> None:
    ghana = DUMP[DUMP.index("  - **Variant 12") :]
    assert _kept(ghana, ("GBP_ACCOUNT",)) == []


def test_without_a_named_value_every_variant_stays() -> None:
    assert len(_kept(DUMP, ("accountNumber",))) == len(schema_fields(Block("list", DUMP)))


def test_numbered_steps_are_kept_as_a_run_not_picked_apart() -> None:
    # Steps 3, 5 and 7 alone read as a fragment: the run from the first to the last is kept.
    from app.triage.draft.section_blocks import _step_run

    steps = [f"{n}. Step number {n} of the approval flow." for n in range(1, 9)]
    assert _step_run(steps, [steps[2], steps[4], steps[6]]) == steps[2:7]


def test_a_paragraph_opening_with_a_pronoun_needs_what_it_points_back_at() -> None:
    from app.triage.draft.blocks import Block
    from app.triage.draft.candidates import Candidate, Section
    from app.triage.draft.compose import Chosen
    from app.triage.draft.section_blocks import _with_antecedents

    hit = _hit("text")
    lead = Candidate(
        0, 0, "c1", Block("paragraph", "Use remittanceInformation for a reference."), frozenset()
    )
    tail = Candidate(
        0, 1, "c1", Block("paragraph", "This populates the ACH Addenda record."), frozenset()
    )
    section = Section(0, hit, [lead, tail])
    picked = [Chosen(tail)]
    _with_antecedents(picked, section)
    assert [p.candidate for p in picked] == [tail, lead]
    # A section's own first paragraph ("This endpoint…") has nothing before it and stays.
    alone = Section(0, hit, [tail])
    picked = [Chosen(tail)]
    _with_antecedents(picked, alone)
    assert [p.candidate for p in picked] == [tail]


def test_a_run_of_steps_stops_at_the_word_budget() -> None:
    from app.triage.draft.section_blocks import _MAX_LIST_ITEMS_WORDS, _step_run

    long_steps = [f"{n}. " + "word " * 100 for n in range(1, 8)]
    run = _step_run(long_steps, [long_steps[1], long_steps[5]])
    assert run[0] == long_steps[1]
    assert sum(len(s.split()) for s in run[:-1]) <= _MAX_LIST_ITEMS_WORDS
    assert len(run) < 5


STEPS = (
    "#### Create a quote\n"
    "```bash\n"
    "grid quotes create --source-currency USDC --dest-currency MXN\n"
    "```\n"
    "#### In sandbox, simulate the USDC deposit\n"
    "```bash\n"
    "grid sandbox send --quote-id <quoteId> --currency USDC\n"
    "```\n"
)


def test_a_quoted_code_example_is_shown_under_its_heading() -> None:
    from app.triage.draft.candidates import read_sections
    from app.triage.draft.compose import Chosen, compose
    from app.triage.draft.protocol import DraftRequest
    from app.triage.draft.question import analyse
    from app.triage.results import TriageResult
    from app.triage.screen.signals import Signals

    hit = _hit(STEPS, title="SDKs & CLI", heading="Example: Send USDC")
    [section] = read_sections([hit], None)
    question = "how do I fake the USDC deposit from the cli in sandbox?"
    request = DraftRequest(
        question=question,
        hits=[hit],
        triage=TriageResult(
            category="sandbox_testing",
            confidence=0.9,
            priority="P3",
            team="developer_support",
            language="en",
            sentiment="neutral",
        ),
        signals=Signals(),
    )
    text, _ = compose([Chosen(section.candidates[1])], request, analyse(question, ()))
    lines = text.splitlines()
    code_at = lines.index("```bash")
    assert lines[code_at - 1] == "*In sandbox, simulate the USDC deposit*"
    assert "grid sandbox send --quote-id <quoteId> --currency USDC" in lines
