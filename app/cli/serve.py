"""`triage serve` (the HTTP API under uvicorn) and `triage worker` (background only)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from app.cli.output import CliError, storage_lines
from app.cli.settings_loader import load_settings
from app.settings import Settings

APP_FACTORY = "app.api:create_app"


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="TCP port.")] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="uvicorn worker processes.")
    ] = 1,
) -> None:
    """Run the API, console and help page (uvicorn, factory mode).

    Each worker process builds its own app from the environment (TRIAGE_*) and, unless
    TRIAGE_RUN_WORKERS=false, its own drafting and outbox workers; they coordinate
    through the database.
    """
    import uvicorn

    settings = load_settings()
    check_database(settings)
    host = host or settings.host
    port = port or settings.port
    for line in start_lines(settings, host, port):
        typer.echo(line, err=True)
    trusted_proxies = settings.forwarded_allow_ips
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app installs JSON logging itself; uvicorn's access log is replaced by ours.
        log_config=None,
        access_log=False,
        # X-Forwarded-For names the client (the rate limit's key) only when it comes from
        # a configured proxy; uvicorn would otherwise trust 127.0.0.1 (or its own
        # FORWARDED_ALLOW_IPS variable), letting any local caller pick its address.
        proxy_headers=trusted_proxies is not None,
        forwarded_allow_ips=trusted_proxies or "",
        server_header=False,
    )


def start_lines(settings: Settings, host: str, port: int) -> list[str]:
    """What a first-time user needs before the JSON logs start: where to click, which
    data directory (so a token made from another directory is not a mystery) and how
    to get a token."""
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    return [
        f"console:   {base}/console",
        f"help page: {base}/help",
        *storage_lines(settings),
        "an agent token: triage tokens create --role agent --name NAME",
    ]


def check_database(settings: Settings) -> None:
    """Fail with one line, before uvicorn starts, when the database cannot be reached.

    SQLite is created on start, so only a server database is tried."""
    from sqlalchemy.engine import make_url

    from app.store import create_engine_for

    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return
    engine = create_engine_for(str(url.render_as_string(hide_password=False)))
    try:
        with engine.connect():
            pass
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        where = url.render_as_string(hide_password=True)
        raise CliError(
            f"cannot reach the database at {where}: {reason[0] if reason else type(exc).__name__}"
        ) from exc
    finally:
        engine.dispose()


def worker() -> None:
    """Run only the drafting and outbox workers (no HTTP), until SIGINT/SIGTERM."""
    from app.observability import Metrics, configure_logging
    from app.services.delivery import build_sender
    from app.services.mailer import build_email_sender
    from app.services.runtime import build_runtime
    from app.services.workers import BackgroundWorkers
    from app.slack.sender import build_slack_sender

    settings = load_settings()
    configure_logging(json_logs=settings.log_json, level=settings.log_level)
    try:
        runtime = build_runtime(settings)
    except Exception as exc:
        raise CliError(f"cannot start the workers: {exc}") from exc
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    sender = build_sender(
        build_slack_sender(settings), build_email_sender(settings, runtime.sessions)
    )
    workers = BackgroundWorkers(runtime, Metrics(), sender)
    workers.start()
    try:
        done.wait()
    finally:
        workers.stop()
        runtime.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker)
