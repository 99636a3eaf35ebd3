"""`triage demo seed`: an agent token and a few sample conversations to review, so a
demo server (`make demo`) has something in its console from the first minute.

The conversations are app/services/demo_seed.py's (created through the real services,
never twice).  The token is issued like `triage tokens create`, printed once; a second
run revokes the token an earlier run printed (its plaintext is gone) and prints a new
one, so there is always exactly one working demo token.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import CliError, print_json, storage_lines
from app.cli.settings_loader import load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.services.demo_seed import Agent, SeedReport
    from app.services.runtime import Runtime
    from app.settings import Settings

DEFAULT_TOKEN_NAME = "demo-agent"


def demo_group(app: typer.Typer) -> typer.Typer:
    """The `triage demo` group every demo command joins (found if another module
    registered it first, so `triage demo history` and `triage demo seed` share it)."""
    for info in app.registered_groups:
        if info.name == "demo" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help="Demo data for a first look at the service.", no_args_is_help=True)
    app.add_typer(group, name="demo")
    return group


def issue_token(sessions: sessionmaker[Session], base: str) -> tuple[str, Agent]:
    """A new agent token named ``base`` (or base-2, …); earlier demo tokens revoked."""
    from app.services.demo_seed import ACTOR, Agent
    from app.store import api_tokens
    from app.store.api_tokens import Principal

    earlier = re.compile(rf"{re.escape(base)}(-\d+)?")
    with sessions.begin() as session:
        for token in api_tokens.list_tokens(session):
            if token.revoked_at is None and token.role == "agent" and earlier.fullmatch(token.name):
                api_tokens.revoke(session, token.id, actor=ACTOR)
        name = api_tokens.unused_name(session, base)
        plaintext, token = api_tokens.create_token(session, "agent", name, actor=ACTOR)
        principal = Principal(name=token.name, role="agent", token_id=token.id)
    return plaintext, Agent(principal.name, principal.actor)


def seed_samples(settings: Settings, runtime: Runtime, agent: Agent) -> SeedReport:
    """The sample conversations, through the services a server builds (app/api/app.py)."""
    import anyio

    from app.answers.build import build_reusable_answers
    from app.conversations.build import build_conversations
    from app.conversations.clocks import SlaClocks
    from app.conversations.policy import load_sla_policy
    from app.observability import Metrics
    from app.services.demo_seed import DemoSeeder, load_samples
    from app.services.review import ReviewService
    from app.services.tickets import TicketService

    metrics = Metrics()
    clocks = SlaClocks(load_sla_policy(settings.sla_policy_path))
    tickets = TicketService(
        runtime, metrics, pipeline_limiter=anyio.CapacityLimiter(1), clocks=clocks
    )
    conversations = build_conversations(settings, runtime, lambda: None, policy=clocks.policy)
    answers = build_reusable_answers(settings, runtime.kb, runtime.sessions)
    review = ReviewService(runtime.sessions, metrics, answers=answers, clocks=clocks)
    seeder = DemoSeeder(runtime.sessions, tickets, conversations, review, load_samples())
    return seeder.run(agent)


def seed(
    token_name: Annotated[
        str, typer.Option("--token-name", help="The demo agent's token name.")
    ] = DEFAULT_TOKEN_NAME,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Issue a demo agent token and create a few sample conversations (once)."""
    from app.knowledge import build_knowledge_base
    from app.services.runtime import build_runtime, offline_settings
    from app.store.api_tokens import TokenNameError, check_name
    from ingest.vectorstore import EmbeddingMismatchError

    try:
        check_name(token_name)
    except TokenNameError as exc:
        raise CliError(f"--token-name: {exc}") from exc
    # Offline drafting: the samples are drafted at once, alike on every machine.
    settings = offline_settings(load_settings())
    try:
        kb = build_knowledge_base(settings, refresh_seconds=0)
        if not kb.store.exists():
            raise CliError(
                f"collection {kb.store.name!r} does not exist yet: run `triage ingest PATH` first"
            )
        runtime = build_runtime(settings, kb=kb)
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    try:
        plaintext, agent = issue_token(runtime.sessions, token_name)
        report = seed_samples(settings, runtime, agent)
    finally:
        runtime.close()
    base = settings.public_base_url
    help_url = f"{base}/help/c/{report.help_token}" if report.help_token else None
    if as_json:
        print_json(
            {
                "token": plaintext,
                "role": "agent",
                "name": agent.name,
                "created": report.created,
                "skipped": report.skipped,
                "answered": report.answered,
                "console_url": f"{base}/console",
                "help_conversation_url": help_url,
            }
        )
        return
    for line in storage_lines(settings):
        typer.echo(line, err=True)
    typer.echo(f"demo agent token (shown once, earlier demo tokens revoked): {plaintext}")
    typer.echo(f"  sign in as {agent.name} at {base}/console")
    if report.created:
        typer.echo(f"sample conversations created: {len(report.created)}")
        for sample, ticket_id in report.created.items():
            typer.echo(f"  {ticket_id}  {sample}")
    if report.skipped:
        typer.echo(f"sample conversations already there: {len(report.skipped)}")
    for sample in report.answered:
        typer.echo(f"  {sample}: answered on /help directly, no ticket")
    if help_url:
        typer.echo(f"the developer's side of the /help hand-off: {help_url}")


def register(app: typer.Typer) -> None:
    demo_group(app).command("seed")(seed)
