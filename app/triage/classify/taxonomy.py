"""The triage taxonomy: categories with description, routing team, default priority, examples.

The built-in file ships with the package; `TRIAGE_TAXONOMY_PATH` replaces it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

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
    if path is None:
        text = resources.files("app.triage.classify").joinpath("taxonomy.yaml").read_text("utf-8")
        where = "built-in taxonomy"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise TaxonomyError(f"cannot read taxonomy {path}: {exc.strerror}") from exc
        where = str(path)
    try:
        data = yaml.safe_load(text)
        return Taxonomy.model_validate(data)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{where}: invalid YAML: {exc}") from exc
    except ValidationError as exc:
        raise TaxonomyError(f"{where}: {exc}") from exc
