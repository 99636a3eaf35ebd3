"""Slack markup both ways: the wire format to plain text, Markdown to mrkdwn."""

from __future__ import annotations

import pytest

from app.slack.markup import format_reply, plain_text


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("a &amp; b &lt;tag&gt;", "a & b <tag>"),
        ("see <https://x.example/a?b=1|the docs>", "see https://x.example/a?b=1"),
        ("ping <#C0ABC|support> and <!here>", "ping #support and @here"),
        ("<@U0BOT|triage> hi", "@U0BOT hi"),
    ],
)
def test_plain_text_undoes_slack_formatting(raw: str, plain: str) -> None:
    assert plain_text(raw) == plain


def test_an_app_mention_loses_only_its_leading_mentions() -> None:
    text = "<@U0BOT> <@U0BOT2|x>: ask <@U0OTHER> about &lt;code&gt;"
    assert plain_text(text, strip_leading_mention=True) == "ask @U0OTHER about <code>"


def test_nul_is_dropped_from_the_plain_text() -> None:
    assert plain_text("a\x00b") == "ab"


def test_format_reply_links_only_http_sources_once() -> None:
    text = format_reply(
        "See https://a.example/x for <details> & more",
        [
            {"source": "a.md", "url": "https://a.example/x"},  # already in the text
            {"source": "b|c.md", "url": "https://b.example/y"},
            {"source": "b.md", "url": "https://b.example/y"},  # duplicate
            {"source": "evil.md", "url": "javascript:alert(1)"},
        ],
    )
    assert text == (
        "See https://a.example/x for &lt;details&gt; &amp; more\n\n"
        "*Sources*\n[2] <https://b.example/y|b¦c.md>"
    )


def test_format_reply_numbers_sources_as_the_markers_and_converts_bold() -> None:
    text = format_reply(
        "**Webhooks** [1] and **Auth** [2]",
        [
            {"source": "w.md", "url": "https://docs.example/w", "marker": 1},
            {"source": "a.md", "url": "https://docs.example/a", "marker": 2},
        ],
    )
    assert text.startswith("*Webhooks* [1] and *Auth* [2]")
    assert "[1] <https://docs.example/w|w.md>" in text
    assert "[2] <https://docs.example/a|a.md>" in text
