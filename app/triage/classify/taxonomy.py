"""The triage taxonomy: categories with description, routing team, default priority, examples.

The built-in file ships with the package; `TRIAGE_TAXONOMY_PATH` replaces it.
"""

from __future__ import annotations

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


class Taxonomy(BaseModel):
    version: int = 1
    fallback_category: str = "other"
    categories: dict[str, Category] = Field(min_length=2)

    @model_validator(mode="after")
    def _fallback_exists(self) -> Taxonomy:
        if self.fallback_category not in self.categories:
            raise ValueError(
                f"fallback_category {self.fallback_category!r} is not one of the categories"
            )
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
        return texts, labels


class TaxonomyError(ValueError):
    """The taxonomy file is missing or malformed; the message says where."""


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    return load_yaml_model(
        Taxonomy,
        path=path,
        builtin=("app.triage.classify", "taxonomy.yaml"),
        what="taxonomy",
        error=TaxonomyError,
    )
