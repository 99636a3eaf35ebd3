"""Real browsers against real servers: uvicorn on loopback, Debian's headless Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from tests.conftest import embedding_cache_of, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """An ASGI app served by uvicorn in a background thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._exit_code: object = None

    def _run(self) -> None:
        try:
            self._server.run()
        except SystemExit as exc:  # uvicorn exits when the lifespan fails to start
            self._exit_code = exc.code

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        # The first start of a run may train the classifier (about 30 s alone, twice that
        # on a loaded machine): the deadline only stops a hung start.
        deadline = time.monotonic() + 240
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"uvicorn did not start (exit {self._exit_code}); see the log above"
                )
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageErrors:
    """What went wrong inside the page: script errors and off-machine requests."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.console: list[str] = []
        self.offsite: list[str] = []

    def assert_clean(self) -> None:
        assert self.script == [], self.script
        assert self.console == [], self.console
        assert self.offsite == [], self.offsite


def open_context(browser: Any, *, locale: str = "en-US") -> tuple[Any, PageErrors]:
    errors = PageErrors()
    context = browser.new_context(locale=locale, viewport={"width": 1360, "height": 900})

    def guard(route: Any) -> None:
        # Pages must work with no internet: anything not on loopback is a bug (a CDN).
        host = urlsplit(route.request.url).hostname
        if host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            errors.offsite.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.on("weberror", lambda error: errors.script.append(str(error.error)))

    def on_console(message: Any) -> None:
        # Failed fetches are logged by the browser itself; the tests that cause them
        # check what the page shows instead.  Anything else (a CSP violation, a JS
        # error) is a bug.
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.console.append(message.text)

    context.on("console", on_console)
    return context, errors


@pytest.fixture
def browser_context(browser: Any) -> Iterator[tuple[Any, PageErrors]]:
    context, errors = open_context(browser)
    yield context, errors
    context.close()


@dataclass
class LiveApp:
    """The real service (``create_app``) on loopback, with a knowledge base and a token."""

    url: str
    settings: Settings
    agent_token: str
    sessions: sessionmaker[Session]

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.agent_token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


StartApp = Callable[..., LiveApp]


@pytest.fixture
def start_app(tmp_path: Path, grid_sample: Path, models_dir: Path) -> Iterator[StartApp]:
    """Call with Settings overrides; the server stops when the test ends."""
    from app.api import create_app
    from app.knowledge import build_knowledge_base
    from app.store.api_tokens import create_token
    from app.store.db import create_engine_for, session_factory

    stack = ExitStack()

    def start(**overrides: Any) -> LiveApp:
        settings = Settings(
            data_dir=tmp_path / "data",
            models_dir=models_dir,
            embedding_cache_dir=embedding_cache_of(models_dir),
            log_json=False,
            **overrides,
        )
        kb = build_knowledge_base(settings, refresh_seconds=0)
        report = kb.synchronizer().sync([grid_sample])
        assert report.docs_failed == 0
        assert report.chunks_written > 0
        server = stack.enter_context(LiveServer(create_app(settings, kb=kb)))
        # The lifespan has migrated the database by now.
        engine = create_engine_for(settings.resolved_database_url)
        stack.callback(engine.dispose)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            token, _ = create_token(session, "agent", "ana")
        return LiveApp(server.url, settings, token, sessions)

    with stack:
        yield start
