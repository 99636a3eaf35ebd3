"""The triage taxonomy: categories with description, routing team, default priority, examples.

The built-in file ships with the package; `TRIAGE_TAXONOMY_PATH` replaces it.

Besides each category's written examples (which the LLM classifier also shows the model),
a taxonomy may name a JSONL file of support messages people labelled
(`labelled_messages_file`, beside the taxonomy file): training data for the offline
classifier only.  Real messages teach it how developers actually write (pasted bodies,
Spanish, a symptom before the question), which hand-written examples do not.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.yaml_config import load_yaml_model

Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITY_ORDER: dict[str, int] = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


class Category(BaseModel):
    description: str
    team: str
    default_priority: Priority
    examples: list[str] = Field(min_length=1)


class LabelledMessage(BaseModel):
    text: str = Field(min_length=1)
    category: str
    source: str = Field(default="", description="Where the label came from (a dataset row id).")


class Taxonomy(BaseModel):
    version: int = 1
    fallback_category: str = "other"
    categories: dict[str, Category] = Field(min_length=2)
    labelled_messages_file: str | None = Field(
        default=None, description="JSONL of labelled support messages beside this file."
    )
    labelled_messages: list[LabelledMessage] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fallback_exists(self) -> Taxonomy:
        if self.fallback_category not in self.categories:
            raise ValueError(
                f"fallback_category {self.fallback_category!r} is not one of the categories"
            )
        unknown = sorted({m.category for m in self.labelled_messages} - set(self.categories))
        if unknown:
            raise ValueError(f"labelled messages name unknown categories {unknown}")
        return self

    @property
    def names(self) -> list[str]:
        return list(self.categories)

    def team_for(self, category: str) -> str:
        return self.categories.get(category, self.categories[self.fallback_category]).team

    def training_pairs(self) -> tuple[list[str], list[str]]:
        texts: list[str] = []
        labels: list[str] = []
        for name, category in self.categories.items():
            for example in category.examples:
                texts.append(example)
                labels.append(name)
        for message in self.labelled_messages:
            texts.append(message.text)
            labels.append(message.category)
        return texts, labels


class TaxonomyError(ValueError):
    """The taxonomy file is missing or malformed; the message says where."""


_BUILTIN = ("app.triage.classify", "taxonomy.yaml")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    taxonomy = load_yaml_model(
        Taxonomy, path=path, builtin=_BUILTIN, what="taxonomy", error=TaxonomyError
    )
    name = taxonomy.labelled_messages_file
    if not name or taxonomy.labelled_messages:
        return taxonomy
    where = path.parent / name if path is not None else None
    try:
        text = (
            where.read_text("utf-8")
            if where is not None
            else resources.files(_BUILTIN[0]).joinpath(name).read_text("utf-8")
        )
    except OSError as exc:
        raise TaxonomyError(f"cannot read labelled messages {where or name}: {exc}") from exc
    messages: list[LabelledMessage] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            messages.append(LabelledMessage.model_validate(json.loads(line)))
        except ValueError as exc:  # JSONDecodeError and ValidationError both are
            raise TaxonomyError(f"{where or name} line {number}: {exc}") from exc
    try:
        return Taxonomy.model_validate(taxonomy.model_dump() | {"labelled_messages": messages})
    except ValueError as exc:
        raise TaxonomyError(f"{where or name}: {exc}") from exc
