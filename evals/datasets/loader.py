"""Evaluation items and the loaders that turn the supported file formats into them.

Three formats are understood:

* our JSONL (one `EvalItem` per line; `question` is accepted for `message` and
  `reference_doc_ids` for `gold_doc_ids`, so the shared `eval/*.jsonl` rows load as-is);
* MTRAG-UN reference tasks (JSONL rows carrying an `answerability` field);
* labelled CSV for intent / category classification.

Every loader reports malformed input as a `DatasetError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

Role = Literal["user", "assistant", "system"]

# MTRAG calls the assistant "agent"; chat exports often say "bot".  One vocabulary downstream.
_ROLE_ALIASES = {"agent": "assistant", "bot": "assistant", "ai": "assistant", "human": "user"}

MTRAG_ANSWERABILITY = ("ANSWERABLE", "UNANSWERABLE", "UNDERSPECIFIED", "PARTIAL")


class DatasetError(ValueError):
    """A dataset file is malformed; the message names the file, line and reason."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class Turn(BaseModel):
    """One earlier message of the conversation the evaluated message belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role = Field(validation_alias=AliasChoices("role", "speaker"))
    content: str = Field(validation_alias=AliasChoices("content", "text"))

    @field_validator("role", mode="before")
    @classmethod
    def _normalise_role(cls, value: object) -> object:
        if isinstance(value, str):
            lowered = value.strip().lower()
            return _ROLE_ALIASES.get(lowered, lowered)
        return value


class EvalItem(BaseModel):
    """One evaluation case: an incoming support message plus whatever gold labels we have.

    Unknown fields are kept (see `model_extra`) rather than rejected, because the
    shared datasets carry provenance fields (`source`, `corpus`, ...) worth preserving.
    """

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    id: str = Field(min_length=1)
    message: str = Field(min_length=1, validation_alias=AliasChoices("message", "question"))
    conversation_history: list[Turn] = Field(default_factory=list)
    gold_doc_ids: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("gold_doc_ids", "reference_doc_ids")
    )
    reference_answer: str | None = None
    reference_contexts: list[str] = Field(default_factory=list)
    category: str | None = None
    priority: str | None = None
    answerable: bool | None = None
    flags: list[str] = Field(default_factory=list)
    language: str | None = None
    channel: str | None = None


# --- helpers -----------------------------------------------------------------


def _describe(error: ValidationError) -> str:
    parts = []
    for err in error.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "<row>"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _json_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for every non-blank line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DatasetError(path, lineno, f"invalid JSON: {exc.msg}") from exc
            if not isinstance(row, dict):
                raise DatasetError(
                    path, lineno, f"expected a JSON object, got {type(row).__name__}"
                )
            yield lineno, row


def _validate(path: Path, lineno: int, data: dict[str, Any], seen: dict[str, int]) -> EvalItem:
    try:
        item = EvalItem.model_validate(data)
    except ValidationError as exc:
        raise DatasetError(path, lineno, _describe(exc)) from exc
    if item.id in seen:
        raise DatasetError(
            path, lineno, f"duplicate id {item.id!r} (first on line {seen[item.id]})"
        )
    seen[item.id] = lineno
    return item


# --- loaders -----------------------------------------------------------------


def load_jsonl(path: Path | str) -> list[EvalItem]:
    """Load our JSONL format: one `EvalItem` object per line."""
    path = Path(path)
    seen: dict[str, int] = {}
    return [_validate(path, lineno, row, seen) for lineno, row in _json_rows(path)]


def _mtrag_label(path: Path, lineno: int, raw: object) -> str:
    # The file stores answerability as a one-element list; accept a bare string too.
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str) or raw.upper() not in MTRAG_ANSWERABILITY:
        allowed = ", ".join(MTRAG_ANSWERABILITY)
        raise DatasetError(path, lineno, f"answerability must be one of {allowed}; got {raw!r}")
    return raw.upper()


def _tags(key: str, raw: object) -> list[str]:
    values = raw if isinstance(raw, list) else [raw]
    return [f"{key}:{str(v).strip().lower()}" for v in values if v not in (None, "")]


def load_mtrag_un(path: Path | str) -> list[EvalItem]:
    """Load MTRAG-UN reference generation tasks (see /work/shared/data/eval/README.md).

    `answerable` is True only for ANSWERABLE.  PARTIAL counts as not answerable:
    the reference passages cover only part of the question, so a draft built on them
    cannot be a complete reply and the right triage outcome is to involve a human.
    The original label is kept as a flag (`answerability:partial`, ...) so runs can
    slice or exclude PARTIAL rows; collection, question type and multi-turn type are
    kept as flags too.
    """
    path = Path(path)
    seen: dict[str, int] = {}
    items = []
    for lineno, row in _json_rows(path):
        label = _mtrag_label(path, lineno, row.get("answerability"))
        flags = [f"answerability:{label.lower()}"]
        for key in ("collection", "question_type", "multi_turn"):
            flags.extend(_tags(key, row.get(key)))
        data = {
            "id": row.get("id"),
            "message": row.get("question"),
            "conversation_history": row.get("conversation_history") or [],
            "gold_doc_ids": row.get("reference_doc_ids") or [],
            "reference_answer": row.get("reference_answer"),
            "reference_contexts": row.get("reference_contexts") or [],
            "answerable": label == "ANSWERABLE",
            "flags": flags,
            "answerability": label,
            "collection": row.get("collection"),
        }
        items.append(_validate(path, lineno, data, seen))
    return items


def load_labelled_csv(
    path: Path | str, text_col: str = "text", label_col: str = "category"
) -> list[EvalItem]:
    """Load a CSV of labelled messages; ids are `<file stem>-<row number>`."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DatasetError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    items = []
    with handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in (text_col, label_col) if c not in columns]
        if missing:
            raise DatasetError(path, 1, f"missing column(s) {missing}; header has {list(columns)}")
        for rowno, row in enumerate(reader, start=1):
            lineno = reader.line_num  # physical line, so quoted multi-line cells still point right
            if None in row:
                raise DatasetError(path, lineno, "more cells than header columns")
            text = (row.get(text_col) or "").strip()
            label = (row.get(label_col) or "").strip()
            if not text:
                raise DatasetError(path, lineno, f"empty {text_col!r}")
            if not label:
                raise DatasetError(path, lineno, f"empty {label_col!r}")
            items.append(EvalItem(id=f"{path.stem}-{rowno}", message=text, category=label))
    return items


def _first_row(path: Path) -> dict[str, Any] | None:
    for _, row in _json_rows(path):
        return row
    return None


def load_dataset(
    path: Path | str, *, text_col: str = "text", label_col: str = "category"
) -> list[EvalItem]:
    """Load any supported file, choosing the loader from the suffix and first row.

    `.csv` goes to `load_labelled_csv` (with `text_col`/`label_col`); `.jsonl` goes to
    `load_mtrag_un` when its first row has an `answerability` field, else `load_jsonl`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_labelled_csv(path, text_col=text_col, label_col=label_col)
    if suffix == ".jsonl":
        first = _first_row(path)
        if first is not None and "answerability" in first:
            return load_mtrag_un(path)
        return load_jsonl(path)
    raise DatasetError(path, None, f"unsupported dataset format {suffix or '(no suffix)'!r}")
