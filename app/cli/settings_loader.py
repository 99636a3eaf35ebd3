"""The settings a CLI command runs with: the environment, then the command's own flags."""

from __future__ import annotations

from typing import Any

from app.cli.output import CliError
from app.settings import Settings, get_settings


def load_settings(**overrides: Any) -> Settings:
    try:
        settings = get_settings()
    except Exception as exc:  # pydantic's message names the bad variable
        raise CliError(f"invalid settings: {exc}") from exc
    updates = {k: v for k, v in overrides.items() if v is not None}
    settings = settings.model_copy(update=updates) if updates else settings
    settings.export_tiktoken_cache()
    return settings
