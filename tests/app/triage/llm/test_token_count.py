"""Token counting stays offline: exact with a local tiktoken cache, an estimate without."""

from __future__ import annotations

from pathlib import Path

from app.triage.llm.token_count import TokenCounter


def test_counts_exactly_with_the_configured_cache(shared_data: Path) -> None:
    counter = TokenCounter("gpt-4o-mini", shared_data / "tiktoken")

    assert counter.exact
    assert counter.count("hello world") == 2
    assert counter.truncate("one two three four five", 2) == "one two"


def test_estimates_when_the_cache_has_no_encoding(tmp_path: Path) -> None:
    counter = TokenCounter("gpt-4o-mini", tmp_path)

    assert not counter.exact
    assert counter.count("x" * 40) == 10
    assert counter.truncate("x" * 40, 2) == "x" * 8
