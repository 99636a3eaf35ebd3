"""A YAML configuration file read into a pydantic model: a package's built-in file, or one
the operator names.  Every problem (unreadable, invalid YAML, invalid content) becomes the
caller's own error, naming the file, so a bad setting fails start-up with a precise message."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def where(path: Path | None, what: str) -> str:
    return str(path) if path is not None else f"built-in {what}"


def load_yaml_model(
    model: type[Model],
    *,
    path: Path | None,
    builtin: tuple[str, str],
    what: str,
    error: type[Exception],
) -> Model:
    """`path`'s content, or the package file `builtin` = (package, file name) when `path`
    is None, validated as `model`; `error(message)` for anything wrong."""
    if path is None:
        package, name = builtin
        text = resources.files(package).joinpath(name).read_text("utf-8")
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        return model.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise error(f"{where(path, what)}: invalid YAML: {exc}") from exc
    except ValidationError as exc:
        raise error(f"{where(path, what)}: {exc}") from exc
