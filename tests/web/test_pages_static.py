"""The page routes serve packaged files only, with headers that keep the token safe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import web
from app.api.web.routes import CONSOLE_ASSETS, HELP_ASSETS, STATIC_DIR


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(web.router)
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("path", ["/console", "/console/stats", "/console/gaps", "/help"])
def test_pages_are_html_with_a_strict_policy(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("prefix", "names"), [("/console", CONSOLE_ASSETS), ("/help", HELP_ASSETS)]
)
def test_every_listed_asset_exists_and_is_served(
    client: TestClient, prefix: str, names: frozenset[str]
) -> None:
    for name in names:
        response = client.get(f"{prefix}/static/{name}")
        assert response.status_code == 200, name
        assert response.content == (STATIC_DIR / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/console/static/console.html",  # a page, not an asset
        "/console/static/help.js",  # the other page's asset
        "/console/static/..%2Froutes.py",
        "/help/static/nope.js",
    ],
)
def test_anything_else_is_not_found(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_pages_load_nothing_from_other_origins() -> None:
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        # Links to documentation come from API data at run time, never from the files.
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path.name
        assert "@import" not in text, path.name
        assert "innerHTML" not in text, path.name  # API data goes in as text only


def test_pages_only_reference_allowed_assets() -> None:
    for page, prefix, allowed in [
        ("console.html", "/console/static/", CONSOLE_ASSETS),
        ("stats.html", "/console/static/", CONSOLE_ASSETS),
        ("gaps.html", "/console/static/", CONSOLE_ASSETS),
        ("help.html", "/help/static/", HELP_ASSETS),
    ]:
        html = (STATIC_DIR / page).read_text(encoding="utf-8")
        referenced = set(re.findall(re.escape(prefix) + r"([\w.-]+)", html))
        assert referenced
        assert referenced <= allowed, page
    for script in STATIC_DIR.glob("*.js"):
        imports = set(re.findall(r"""from\s+["']\./([\w.-]+)["']""", script.read_text()))
        home = CONSOLE_ASSETS if script.name in CONSOLE_ASSETS else HELP_ASSETS
        assert imports <= home, script.name
