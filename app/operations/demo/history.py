"""`triage demo history`: plan a labelled support history and write it through the services.

Steps: open the data dir's database (it must hold no tickets) and knowledge base (sync
``docs`` first when given); load the messages and mark which ones the indexed docs
answer; draw the arrivals and the messages they bring; triage each distinct message
once with the offline pipeline; simulate the team; replay every operation at its
instant; leave the demo mark (demo_marker.py).  Deterministic for a seed, a period and
a knowledge base.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from app.conversations.clocks import SlaClocks
from app.conversations.policy import load_sla_policy
from app.knowledge import KnowledgeBase, build_knowledge_base
from app.observability import Metrics
from app.operations.demo import arrivals as arrival_process
from app.operations.demo.config import DemoConfig
from app.operations.demo.help_page import HelpPagePlanner, HelpPlan
from app.operations.demo.marker import write_marker
from app.operations.demo.mix import PlannedTicket, plan_tickets
from app.operations.demo.pipeline_cache import CachedPipeline
from app.operations.demo.replay import Replayer, SimClock
from app.operations.demo.sources import DemoMessage, load_group, mark_documented
from app.operations.demo.team import DraftFacts, TeamSimulation
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.refresh import rebuild
from app.services.database import prepare_database
from app.services.runtime import Pipeline, Runtime, build_runtime, offline_settings
from app.services.tickets import TicketService
from app.settings import Settings
from app.store import api_tokens
from app.store.models import Ticket
from app.triage.classify.taxonomy import load_taxonomy

log = logging.getLogger(__name__)

MARKER_FILE = "demo-history.json"
HELP_STREAM = 1  # the help page's random stream, beside the seed


class DemoHistoryError(RuntimeError):
    """The history cannot be written here; the message says why and what to do."""


@dataclass(frozen=True)
class HistoryRequest:
    days: int
    seed: int
    end: date  # exclusive: the history covers [end - days, end)
    config: DemoConfig
    eval_dir: Path | None
    docs: list[Path] = field(default_factory=list)


@dataclass
class HistoryReport:
    start: date
    end: date
    seed: int
    tickets: int = 0
    incidents: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    messages_available: int = 0
    messages_documented: int = 0
    pipeline_runs: int = 0
    pipeline_reused: int = 0
    # The help page: questions asked there, answered without a ticket, askers back.
    help_questions: int = 0
    help_answered: int = 0
    help_came_back: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": (self.end - self.start).days,
            "seed": self.seed,
            "tickets": self.tickets,
            "incidents": self.incidents,
            "operations": dict(sorted(self.operations.items())),
            "messages_available": self.messages_available,
            "messages_documented": self.messages_documented,
            "pipeline_runs": self.pipeline_runs,
            "pipeline_reused": self.pipeline_reused,
            "self_service": {
                "questions": self.help_questions,
                "answered": self.help_answered,
                "came_back": self.help_came_back,
            },
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def demo_settings(settings: Settings, config: DemoConfig) -> Settings:
    """The offline pipeline, and no legacy global auto-send threshold: the script's agents
    decide, unless an earned auto-send policy is configured (the built-in one governs no
    category, so nothing is sent without an agent).  The help page answers at the
    history's own threshold (history.yaml ``self_service.answer_min_confidence``)."""
    update: dict[str, Any] = {"auto_send_min_confidence": None}
    if config.self_service is not None:
        update["ask_answer_min_confidence"] = config.self_service.answer_min_confidence
    return offline_settings(settings).model_copy(update=update)


def _facts(result_of: Callable[[str], Any]) -> Callable[[PlannedTicket], DraftFacts]:
    memo: dict[str, DraftFacts] = {}

    def facts(planned: PlannedTicket) -> DraftFacts:
        text = planned.message.text
        if text not in memo:
            r = result_of(text)
            memo[text] = DraftFacts(
                category=r.triage.category,
                priority=r.triage.priority,
                team=r.triage.team,
                needs_human=r.draft.needs_human,
                text=r.draft.text,
                cited_doc_ids=frozenset(c.doc_id for c in r.draft.citations),
            )
        return memo[text]

    return facts


def _messages(runtime: Runtime, request: HistoryRequest) -> dict[str, list[DemoMessage]]:
    metadata = runtime.kb.store.all_metadata()
    doc_ids = {str(m.get("doc_id", "")) for _, m in metadata}
    corpora = {Path(str(m.get("root", ""))).name for _, m in metadata}
    return {
        s.name: mark_documented(load_group(s, request.eval_dir), doc_ids, corpora)
        for s in request.config.sources
    }


def _check_empty(settings: Settings) -> None:
    engine, sessions = prepare_database(settings)
    try:
        with sessions() as session:
            existing = session.scalar(select(func.count()).select_from(Ticket)) or 0
    finally:
        engine.dispose()
    if existing:
        raise DemoHistoryError(
            f"the database already holds {existing} tickets; a demo history needs an empty "
            "one: pass a new --data-dir (or TRIAGE_DATABASE_URL)"
        )


def _actors(runtime: Runtime, config: DemoConfig) -> tuple[dict[str, str], str, str]:
    """Agent tokens (assignees are token names, actors ``<token id>:<name>``, as through
    the API) and the integration token the tickets arrive by."""
    names = [s.name for s in config.team.agents]
    if config.team.on_call is not None:
        names.append(config.team.on_call.name)
    actors: dict[str, str] = {}
    with runtime.sessions.begin() as session:
        for name in names:
            _, token = api_tokens.create_token(session, "agent", name, actor="demo-history")
            actors[name] = f"{token.id}:{name}"
        _, intake = api_tokens.create_token(
            session, "integration", "demo-intake", actor="demo-history"
        )
    return actors, f"{intake.id}:demo-intake", intake.id


def write_history(
    settings: Settings,
    request: HistoryRequest,
    *,
    progress: Callable[[str], None] = lambda _: None,
    kb: KnowledgeBase | None = None,
    pipeline: Pipeline | None = None,
) -> HistoryReport:
    """Write the history; ``kb``/``pipeline`` (an offline one) let tests and benchmarks
    share loaded models, as with ``build_runtime``."""
    started = time.perf_counter()
    settings = demo_settings(settings, request.config)
    start = request.end - timedelta(days=request.days)
    report = HistoryReport(start=start, end=request.end, seed=request.seed)
    _check_empty(settings)
    # The docs do not change during the replay: the retriever need not look for updates.
    kb = kb or build_knowledge_base(settings, refresh_seconds=600)
    if request.docs:
        progress(f"syncing docs from {', '.join(map(str, request.docs))}")
        kb.synchronizer().sync(request.docs)
    if not kb.store.exists() or kb.store.count() == 0:
        raise DemoHistoryError(
            f"collection {kb.store.name!r} is empty: run `triage ingest PATH` for this data "
            "dir first, or pass --docs PATH"
        )
    runtime = build_runtime(settings, kb=kb, pipeline=pipeline)
    try:
        groups = _messages(runtime, request)
        every = [m for g in groups.values() for m in g]
        report.messages_available = len(every)
        report.messages_documented = sum(m.documented for m in every)
        report.seconds["setup"] = time.perf_counter() - started

        rng = np.random.default_rng(request.seed)
        config = request.config
        drawn, incidents = arrival_process.arrivals(config.arrivals, start, request.days, rng)
        planned = plan_tickets(drawn, groups, config, start, request.days, rng)
        taxonomy = load_taxonomy(settings.taxonomy_path)
        cached = CachedPipeline(runtime.pipeline)
        end_at = datetime.combine(request.end, dtime(0), tzinfo=UTC)

        clock = time.perf_counter()
        progress(f"triaging {len({p.message.text for p in planned})} distinct messages")
        facts = _facts(cached.run)
        # Its own random stream: the help page leaves the rest of a seed's plan as it was.
        help_plan = HelpPlan(planned, frozenset(), [])
        if config.self_service is not None:
            help_rng = np.random.default_rng([request.seed, HELP_STREAM])
            helped = HelpPagePlanner(config.self_service, groups, cached.run, end_at, help_rng)
            help_plan = helped.plan(planned)
        planned = help_plan.tickets
        for p in planned:
            facts(p)
        report.seconds["pipeline"] = time.perf_counter() - clock
        report.tickets = len(planned) - len(help_plan.answered)
        report.incidents = len(incidents)
        report.help_questions = sum(p.asker is not None for p in planned)
        report.help_answered = len(help_plan.answered)
        report.help_came_back = sum(p.came_back_after is not None for p in planned)

        clock = time.perf_counter()
        team = TeamSimulation(
            config, planned, facts, taxonomy.team_for, end_at, rng, help_plan.answered
        )
        ops = sorted([*team.run(), *help_plan.ops], key=lambda op: op.order)
        report.seconds["simulation"] = time.perf_counter() - clock

        clock = time.perf_counter()
        actors, intake_actor, intake_token = _actors(runtime, config)
        sim = SimClock(datetime.combine(start, dtime(0), tzinfo=UTC))
        clocks = SlaClocks(load_sla_policy(settings.sla_policy_path), clock=sim)
        service = TicketService(runtime, Metrics(), pipeline_limiter=_limiter(), clocks=clocks)
        replayer = Replayer(
            sessions=runtime.sessions,
            service=service,
            pipeline=cached,
            policy=clocks.policy,
            team_for=taxonomy.team_for,
            planned=planned,
            clock=sim,
            clocks=clocks,
            actors=actors,
            intake_actor=intake_actor,
            intake_token=intake_token,
            approve_follow_up_draft=config.approve_follow_up_draft,
        )
        replayer.run(ops, progress=lambda day: _weekly(day, start, progress))
        replayer.finish(end_at)
        report.operations = replayer.done
        report.pipeline_runs, report.pipeline_reused = cached.runs, cached.reused
        report.seconds["replay"] = time.perf_counter() - clock
        # A bulk import in the past: the refresher finds stale tickets by recent changes
        # only, so the metric facts (GET /v1/stats, the stats page) are copied in one pass.
        clock = time.perf_counter()
        rebuild(runtime.engine, config=MetricsConfig.from_settings(settings))
        report.seconds["metrics"] = time.perf_counter() - clock
        report.seconds["total"] = time.perf_counter() - started
        detail = {**report.as_dict(), "generated_at": datetime.now(UTC).isoformat()}
        with runtime.sessions.begin() as session:
            write_marker(session, detail, now=end_at)
        if settings.database_url is None:
            # Beside the data dir's own SQLite file, for people browsing the folder; a
            # server database carries the mark row only.
            (settings.data_dir / MARKER_FILE).write_text(json.dumps(detail, indent=2) + "\n")
        return report
    finally:
        runtime.close()


def _weekly(day: date, start: date, progress: Callable[[str], None]) -> None:
    if (day - start).days % 7 == 0:
        progress(f"replaying {day.isoformat()}")


def _limiter() -> Any:
    # TicketService wants a limiter for its async paths; the replay calls `store` only.
    import anyio

    return anyio.CapacityLimiter(1)
