"""Tokens through the API (admin) and `triage tokens create` / `triage serve`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from app.cli.output import CliError
from app.cli.serve import register as register_serve
from app.cli.tokens import register as register_tokens
from app.services.database import prepare_database
from app.settings import Settings
from app.store import api_tokens
from tests.api.conftest import MakeApi


def test_admin_issues_lists_and_revokes_tokens(make_api: MakeApi) -> None:
    api = make_api(auth_cache_seconds=0)
    issued = api.client.post(
        "/v1/tokens", json={"role": "agent", "name": "alice"}, headers=api.auth("admin")
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert {"token", "role", "name", "id", "prefix"} <= set(body)
    assert (body["role"], body["name"]) == ("agent", "alice")
    token = body["token"]
    as_alice = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/review/queue", headers=as_alice).status_code == 200
    assert (
        api.client.post(
            "/v1/tokens", json={"role": "admin", "name": "x"}, headers=as_alice
        ).status_code
        == 403
    )

    listed = api.client.get("/v1/tokens", headers=api.auth("admin"))
    assert token not in listed.text
    assert "alice" in {t["name"] for t in listed.json()}

    revoked = api.client.delete(f"/v1/tokens/{body['id']}", headers=api.auth("admin"))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api.client.get("/v1/review/queue", headers=as_alice).status_code == 401


def _cli(*registers: Any) -> typer.Typer:
    app = typer.Typer()
    for register in registers:
        register(app)
    return app


def test_tokens_create_prints_the_token_once_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    result = CliRunner().invoke(
        _cli(register_tokens, register_serve),
        ["tokens", "create", "--role", "integration", "--name", "crm", "--json"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"token", "role", "name"} <= set(document)
    assert (document["role"], document["name"]) == ("integration", "crm")
    engine, sessions = prepare_database(Settings(database_url=url))
    with sessions() as session:
        principal = api_tokens.authenticate(session, document["token"])
    engine.dispose()
    assert principal is not None
    assert principal.role == "integration"

    bad = CliRunner().invoke(
        _cli(register_tokens, register_serve), ["tokens", "create", "--role", "root"]
    )
    assert bad.exit_code != 0
    assert isinstance(bad.exception, CliError)
    assert "--role" in str(bad.exception)


def test_serve_runs_uvicorn_in_factory_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    result = CliRunner().invoke(
        _cli(register_serve, register_tokens),
        ["serve", "--host", "127.0.0.1", "--port", "8123", "--workers", "3"],
    )
    assert result.exit_code == 0, result.output
    [(target, kwargs)] = calls
    assert target == "app.api:create_app"
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.1", 8123, 3)
