"""Serves the agent console and the self-service help page.

Both pages are static HTML/CSS/vanilla JS shipped inside the package and talk to the
public JSON API from the browser; the server renders nothing per request, so the pages
cannot leak data the API would not give the same caller.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"

# The pages load nothing from other origins (no CDNs), so the policy can be 'self' only.
# The token lives in sessionStorage, so a strict script-src is the main defence against
# an injected script reading it.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

_MEDIA_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

# An allow-list rather than a directory mount: nothing else under static/ (or outside it,
# via ../) can ever be served, whatever the URL.
CONSOLE_ASSETS: Final = frozenset(
    {
        "base.css",
        "console.css",
        "console.js",
        "console-api.js",
        "console-render.js",
        "console-conversation.js",
        "http.js",
        "markdown.js",
        "favicon.svg",
        "stats.css",
        "stats.js",
        "stats-volume.js",
        "stats-insights.js",
        "chart-svg.js",
        "reliability.js",
        "gaps.css",
        "gap-badges.css",
        "gaps.js",
    }
)
HELP_ASSETS: Final = frozenset(
    {"base.css", "help.css", "help.js", "help-i18n.js", "http.js", "markdown.js", "favicon.svg"}
)

router = APIRouter(include_in_schema=False)


def _file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # Revalidate every time (FileResponse sets an ETag): an upgrade is seen at once,
        # and an HTML page never runs against a cached script from an older release.
        "Cache-Control": "no-cache",
    }
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers=headers)


def _asset(name: str, allowed: frozenset[str]) -> FileResponse:
    if name not in allowed:
        raise HTTPException(status_code=404, detail=f"no such asset: {name}")
    return _file(name)


@router.get("/console")
def console_page() -> FileResponse:
    return _file("console.html")


@router.get("/console/stats")
def stats_page() -> FileResponse:
    """Operations charts (GET /v1/stats) for agents and admins."""
    return _file("stats.html")


@router.get("/console/gaps")
def gaps_page() -> FileResponse:
    return _file("gaps.html")


@router.get("/console/static/{name}")
def console_asset(name: str) -> FileResponse:
    return _asset(name, CONSOLE_ASSETS)


@router.get("/help")
def help_page() -> FileResponse:
    return _file("help.html")


@router.get("/help/c/{token}")
def help_conversation_page(token: str) -> FileResponse:
    """The developer's conversation link: the help page, which reads the token from its
    own URL and asks the API (an unknown token shows as such there)."""
    return _file("help.html")


@router.get("/help/static/{name}")
def help_asset(name: str) -> FileResponse:
    return _asset(name, HELP_ASSETS)
