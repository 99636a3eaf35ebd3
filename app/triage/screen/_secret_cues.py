"""The cue words of ``secret_cues.yaml``, loaded once and compiled into regexes.

Nothing happens at import time; each table is built on first use and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

# What a value after a cue is made of; quotes, brackets and separators end it.
# Not starting with ":" or "=": "token::Client" is a path and "token == x" a comparison.
# Nor running into the next query parameter ("client_secret=…&x=1").
_VALUE = r"(?P<q>[\"'`]?)(?P<secret>(?![:=])(?:(?!&[\w.\-]+=)[^\s\"'`,;<>()\[\]{}]){4,256})"


_BLANKS = re.compile(r"[\s\-_]+")


@dataclass(frozen=True)
class CredentialCue:
    kind: str
    regex: re.Pattern[str]
    # Cheap substring checks on ``plain(text)``: the regex runs only when one is present.
    anchors: tuple[str, ...]
    # The first word of every cue, lower case: where in a text the regex is tried.
    first_words: tuple[str, ...]

    def may_match(self, plain_text: str) -> bool:
        return any(anchor in plain_text for anchor in self.anchors)


def plain(text: str) -> str:
    """Lower case, runs of blanks, hyphens, underscores one space: what anchors are checked on."""
    return _BLANKS.sub(" ", text.lower())


@cache
def _data() -> dict[str, Any]:
    raw = resources.files("app.triage.screen").joinpath("secret_cues.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(raw)
    return data


def _alternation(phrases: list[str]) -> str:
    # Longest first, so "secret access key" wins over "secret key"; inner spaces match any
    # run of blanks, hyphens or underscores ("client-secret", "api_key").
    ordered = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"[\s\-_]+") for p in ordered)


def _connector(required: bool) -> str:
    words = [c for c in _data()["connectors"] if c[0].isalpha()]
    signs = [c for c in _data()["connectors"] if not c[0].isalpha()]
    spoken = rf"\s+(?:{_alternation(words)})(?![\w\-])(?:\s*:)?\s*"
    written = rf"\s*(?:{'|'.join(re.escape(s) for s in signs)})\s*"
    # With no connector at all ("password hunter2"), the value must hold a digit or a
    # symbol: "password resets?" and "passcode screen" are prose.
    bare = r"\s+(?=[^\s\"'`]*[0-9@#$%^&*_+=~/\\|])"
    return f"(?:{written}|{spoken})" if required else f"(?:{written}|{spoken}|{bare})"


@cache
def credential_cues() -> tuple[CredentialCue, ...]:
    cues = []
    for entry in _data()["credentials"]:
        required = entry["connector"] == "required"
        # "password for the dashboard is …": a link and up to two words, then a connector.
        linked = rf"\s+(?:{_alternation(_data()['links'].split())})(?:\s+[^\W\d]{{1,20}}){{1,2}}"
        pattern = (
            rf"(?i)(?<![\w\-])(?:{_alternation(entry['cues'])})(?![\w\-])"
            rf"(?:{linked}{_connector(True)}|{_connector(required)}){_VALUE}"
        )
        anchors = tuple(plain(cue) for cue in entry["cues"])
        first = tuple({_BLANKS.split(cue.lower())[0] for cue in entry["cues"]})
        cues.append(CredentialCue(str(entry["kind"]), re.compile(pattern), anchors, first))
    return tuple(cues)


@cache
def phrase_anchors() -> tuple[str, ...]:
    """Words one of which every recovery-phrase cue contains (see ``CredentialCue``)."""
    cues = [plain(c).replace("{n}", " ").split() for c in _data()["recovery_phrase_cues"]]
    return tuple({max(words, key=len) for words in cues})


@cache
def phrase_anchor_regex() -> re.Pattern[str]:
    return re.compile("(?i)" + "|".join(re.escape(a) for a in phrase_anchors()))


@cache
def phrase_cue() -> re.Pattern[str]:
    """A recovery-phrase announcement, up to where its words begin."""
    data = _data()
    number = _alternation([str(n) for n in data["phrase_lengths"]])
    cues = _alternation(data["recovery_phrase_cues"]).replace(re.escape("{n}"), f"(?:{number})")
    verbs = _alternation([c for c in data["connectors"] if c[0].isalpha()])
    return re.compile(
        rf"(?i)(?<![\w\-])(?P<cue>{cues})(?![\w\-])(?:\s*\([^)\n]{{0,40}}\))?"
        rf"(?:\s*(?:[:=]|->|=>)|\s+(?:{verbs})(?![\w\-]))*\s*:?"
    )


def phrase_length(cue: str) -> int | None:
    """The number of words a cue announces ("the 24 words"), if it says."""
    low = re.sub(r"[\s\-]+", " ", cue.lower())
    lengths = {
        re.sub(r"[\s\-]+", " ", str(k)): int(v) for k, v in _data()["phrase_lengths"].items()
    }
    return next((n for word, n in lengths.items() if re.search(rf"(?<!\w){word}(?!\w)", low)), None)


@cache
def stop_words() -> frozenset[str]:
    return frozenset(w.lower() for words in _data()["stop_words"].values() for w in words.split())


@dataclass(frozen=True)
class PrefixedTokens:
    """Every vendor prefix of ``token_prefixes`` in one regex; the prefix names the kind."""

    regex: re.Pattern[str]
    kinds: dict[str, str]


@cache
def prefixed_tokens() -> PrefixedTokens:
    kinds = {p: str(kind) for kind, prefixes in _data()["token_prefixes"].items() for p in prefixes}
    alternation = "|".join(re.escape(p) for p in sorted(kinds, key=len, reverse=True))
    # Literal prefixes first, so the regex engine skips ahead; boundaries checked by caller.
    pattern = rf"(?P<prefix>{alternation})(?=[\w\-.]*\d)[A-Za-z0-9_\-.]{{16,}}(?<![.\-])(?![\w\-])"
    return PrefixedTokens(re.compile(pattern), kinds)


@cache
def mode_marked_keys() -> re.Pattern[str]:
    modes = _alternation(_data()["mode_marked_key_modes"])
    # Boundaries checked by the caller, as for the listed prefixes.
    # The random part is letters and digits only, so snake_case names stay as they are.
    return re.compile(
        rf"(?P<prefix>[A-Za-z]{{2,8}}_(?:{modes})_)(?=[A-Za-z]*\d)(?=\d*[A-Za-z])"
        r"[A-Za-z0-9]{16,}(?![\w\-])"
    )


@cache
def auth_scheme_header() -> re.Pattern[str]:
    schemes = _alternation(_data()["auth_schemes"])
    return re.compile(
        rf"(?i)\bauthorization\b[\"']?\s*[:=]\s*[\"']?(?:{schemes})\s+"
        r"(?P<secret>[A-Za-z0-9\-._~+/:=]{12,})"
    )
