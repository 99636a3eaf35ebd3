"""Prompts live as named, versioned Markdown files, not as strings in code.

A prompt file is YAML front matter (`id`, `version`, `variables`, optional `description`)
followed by a `## system` and a `## user` section.  Placeholders are `{{ name }}`, so the
single braces of JSON examples inside a prompt are plain text.  Substitution is a single
pass: a value that itself contains `{{ x }}` (a customer message, a doc) is never
expanded again.

Each template carries the sha256 of its file, recorded in every draft's provenance so a
reply can be traced to the exact prompt text that produced it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "LANGUAGE_NAMES",
    "PromptError",
    "PromptTemplate",
    "default_prompts_dir",
    "language_name",
    "load_prompt",
    "neutralise",
]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# The library's YAML handler; its boundary is a '---' line (trailing blanks allowed).
_FRONT_MATTER = YAMLHandler(fm_boundary=re.compile(r"^---[ \t]*\r?$", re.MULTILINE))
_SECTION = re.compile(r"^##[ \t]+(system|user)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
# The delimiter tags our prompts fence untrusted text with (doc passages, turns, messages).
_OUR_TAGS = re.compile(r"<(/?\s*(?:doc|turn|customer_message|history|documents)\b)", re.IGNORECASE)

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "fr": "French",
    "de": "German",
    "it": "Italian",
}


class PromptError(ValueError):
    """A prompt file is missing or malformed, or was rendered with the wrong variables."""


class _FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    variables: list[str] = Field(default_factory=list)
    description: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        # YAML reads `version: 1` as an int; versions are labels, not numbers.
        return str(value) if isinstance(value, int | float) else value


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    version: str
    variables: tuple[str, ...]
    description: str | None
    system: str
    user: str
    hash: str
    path: Path

    def render(self, **values: str) -> list[BaseMessage]:
        """System message (static instructions) then user message (the variable parts)."""
        missing = sorted(set(self.variables) - set(values))
        extra = sorted(set(values) - set(self.variables))
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing {', '.join(missing)}")
            if extra:
                problems.append(f"unexpected {', '.join(extra)}")
            raise PromptError(f"prompt {self.id!r}: {'; '.join(problems)}")
        for name, value in values.items():
            if not isinstance(value, str):
                raise PromptError(f"prompt {self.id!r}: variable {name} must be a string")
        return [
            SystemMessage(content=_substitute(self.system, values)),
            HumanMessage(content=_substitute(self.user, values)),
        ]


def _substitute(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def default_prompts_dir() -> Path:
    """The repository's top-level `prompts/` folder (this file is app/triage/prompts.py).

    An installed wheel has no such folder beside the package; the working directory's
    `prompts/` is the fallback there.  Anything else passes `prompts_dir` explicitly.
    """
    beside_package = Path(__file__).resolve().parents[2] / "prompts"
    if beside_package.is_dir():
        return beside_package
    in_cwd = Path.cwd() / "prompts"
    return in_cwd if in_cwd.is_dir() else beside_package


def load_prompt(name: str, prompts_dir: Path | None = None) -> PromptTemplate:
    if not _NAME.match(name):
        raise PromptError(f"invalid prompt name {name!r}")
    folder = prompts_dir if prompts_dir is not None else default_prompts_dir()
    path = folder / f"{name}.md"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PromptError(f"cannot read prompt {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PromptError(f"{path}: not UTF-8") from exc
    return _parse(text, path, hashlib.sha256(raw).hexdigest())


def _parse(text: str, path: Path, digest: str) -> PromptTemplate:
    missing = PromptError(f"{path}: missing YAML front matter (--- ... ---)")
    if not _FRONT_MATTER.detect(text):  # the opening '---' must be line 1
        raise missing
    try:
        header, body = _FRONT_MATTER.split(text)
    except ValueError:  # no closing '---' line
        raise missing from None
    if header == "\n":  # '---' straight after '---' has never counted as front matter
        raise missing
    try:
        # The header starts with the opening line's newline: dropped so YAML's line numbers
        # count from the first header line; the pure-Python loader's errors quote the line.
        meta = _FrontMatter.model_validate(
            _FRONT_MATTER.load(header[1:], Loader=yaml.SafeLoader) or {}
        )
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: invalid front matter YAML: {exc}") from exc
    except ValidationError as exc:
        raise PromptError(f"{path}: invalid front matter: {exc}") from exc
    sections = _sections(body, path)
    declared = set(meta.variables)
    if len(declared) != len(meta.variables):
        raise PromptError(f"{path}: a variable is declared twice")
    used = {m.group(1) for part in sections.values() for m in _PLACEHOLDER.finditer(part)}
    if used != declared:
        problems = []
        if used - declared:
            problems.append(f"undeclared placeholders {sorted(used - declared)}")
        if declared - used:
            problems.append(f"declared but unused {sorted(declared - used)}")
        raise PromptError(f"{path}: {'; '.join(problems)}")
    return PromptTemplate(
        id=meta.id,
        version=meta.version,
        variables=tuple(meta.variables),
        description=meta.description,
        system=sections["system"],
        user=sections["user"],
        hash=digest,
        path=path,
    )


def _sections(body: str, path: Path) -> dict[str, str]:
    heads = list(_SECTION.finditer(body))
    names = [h.group(1).lower() for h in heads]
    if names != ["system", "user"]:
        raise PromptError(f"{path}: expected exactly '## system' then '## user' sections")
    if body[: heads[0].start()].strip():
        raise PromptError(f"{path}: text before '## system' would be silently dropped")
    return {
        "system": body[heads[0].end() : heads[1].start()].strip(),
        "user": body[heads[1].end() :].strip(),
    }


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code.lower().split("-")[0], code)


def neutralise(text: str) -> str:
    """Defuse our own delimiter tags inside untrusted text; everything else stays verbatim
    so quotes copied from a doc still match the stored chunk."""
    return _OUR_TAGS.sub(r"&lt;\1", text)
