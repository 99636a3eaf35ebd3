"""What every CLI command prints: one-line errors, JSON on stdout, storage paths."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from app.settings import Settings


class CliError(Exception):
    """A failure the user can act on; printed as one line, exit code 1 (or as given)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def stderr_console() -> Console:
    return Console(stderr=True)


def storage_lines(settings: Settings) -> list[str]:
    """The data directory and database this command uses, as absolute paths: the
    default `.triage/` follows the working directory."""
    from sqlalchemy.engine import make_url

    database = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    return [f"data directory: {settings.data_dir.resolve()}", f"database: {database}"]


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()
