"""`triage serve` and `triage tokens create` say where to go and which data they use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from app.cli.serve import register as register_serve
from app.cli.tokens import register as register_tokens


def _cli() -> typer.Typer:
    app = typer.Typer()
    register_serve(app)
    register_tokens(app)
    return app


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the default (relative) data directory."""
    monkeypatch.delenv("TRIAGE_DATA_DIR", raising=False)
    monkeypatch.delenv("TRIAGE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_serve_prints_the_urls_the_data_directory_and_the_token_command(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    result = CliRunner().invoke(_cli(), ["serve", "--host", "127.0.0.1", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert started, "uvicorn was not started"
    assert "http://127.0.0.1:8765/console" in result.stderr
    assert "http://127.0.0.1:8765/help" in result.stderr
    assert str((elsewhere / ".triage").resolve()) in result.stderr
    assert "triage tokens create --role agent --name" in result.stderr
    assert result.stdout == ""


def test_tokens_create_prints_the_absolute_data_directory(elsewhere: Path) -> None:
    result = CliRunner().invoke(_cli(), ["tokens", "create", "--role", "agent", "--name", "a"])
    assert result.exit_code == 0, result.output
    assert str((elsewhere / ".triage").resolve()) in result.stderr
    assert str((elsewhere / ".triage").resolve()) not in result.stdout
