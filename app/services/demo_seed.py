"""A few realistic conversations for a demo's agent to review (`triage demo seed`).

Each sample of demo_seed.yaml goes through the services a real conversation goes
through: a Slack thread through the Slack intake (its follow-up attaches to the thread's
ticket and is re-drafted with the history), a /help question through the hand-off with
the developer's contact, API tickets through the ticket service, and the agent's work
(take, internal note, approval, link, solve) through the review and conversation
services.  Nothing is written to the tables directly.

Idempotent: a sample is recorded (a ``demo_seeded`` audit row naming it) as soon as its
ticket exists, and a recorded sample is never created again, so a second run, or a run
after one that failed half-way, creates no duplicates.

Delivery: the demo has no Slack workspace, so the seed delivers its own approved replies
through the real outbox with a sender that records them as delivered (an API ticket's
reply is only ever recorded: integrations read it; see services/delivery.py).  Only when
the outbox holds nothing but the demo's replies: a database with replies of its own
waiting leaves them, and the demo's, to its workers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.service import ConversationService
from app.services.delivery import record_delivery
from app.services.review import ReviewService
from app.services.tickets import NewTicket, TicketService
from app.slack.events import SlackMessage
from app.slack.intake import SlackInbox, ticket_writer
from app.slack.threads import thread_writer
from app.store import audit, outbox
from app.store.contacts import Contact
from app.store.models import AuditLog, OutboxMessage
from app.yaml_config import load_yaml_model

log = logging.getLogger(__name__)

SEEDED = "demo_seeded"
ACTOR = "cli:demo-seed"


class DemoSeedError(ValueError):
    """The sample file is malformed, or a sample could not be created."""


class _FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ts: str
    text: str


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9-]{1,60}$")
    kind: Literal["slack", "help", "api"]
    message: str = Field(min_length=1)
    reporter: str | None = None
    user: str = "U0DEMODEV"
    ts: str | None = None
    email: str | None = None
    name: str | None = None
    take: bool = False
    note: str | None = None
    approve: bool = False
    follow_ups: list[_FollowUp] = Field(default_factory=list)
    link_to: str | None = None
    solve: bool = False


class Samples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack_channel: str
    slack_team: str
    samples: list[Sample] = Field(min_length=1)


def load_samples() -> Samples:
    return load_yaml_model(
        Samples,
        path=None,
        builtin=("app.services", "demo_seed.yaml"),
        what="demo samples",
        error=DemoSeedError,
    )


@dataclass(frozen=True)
class Agent:
    """The demo agent the seed acts as: its token name (assignee) and audit actor."""

    name: str
    actor: str


@dataclass
class SeedReport:
    created: dict[str, str] = field(default_factory=dict)  # sample -> ticket id
    skipped: dict[str, str] = field(default_factory=dict)  # sample -> ticket id (seeded before)
    # Samples that made no ticket (a /help question answered directly).
    answered: list[str] = field(default_factory=list)
    # The /help developer's conversation link token, when created in this run.
    help_token: str | None = None


def seeded(session: Session) -> dict[str, str]:
    """The samples seeded before: sample -> ticket id."""
    found: dict[str, str] = {}
    for ticket_id, detail in session.execute(
        select(AuditLog.ticket_id, AuditLog.detail).where(AuditLog.action == SEEDED)
    ):
        sample = detail.get("sample") if isinstance(detail, Mapping) else None
        if isinstance(sample, str) and ticket_id is not None:
            found[sample] = ticket_id
    return found


class NotADemoReply(RuntimeError):
    """The seed's sender was handed another reply: it is left for the real workers."""


class DemoSeeder:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        tickets: TicketService,
        conversations: ConversationService,
        review: ReviewService,
        samples: Samples,
    ) -> None:
        self.sessions = sessions
        self.tickets = tickets
        self.conversations = conversations
        self.review = review
        self.samples = samples
        self.inbox = SlackInbox(
            sessions,
            thread_writer(ticket_writer(tickets), conversations),
            support_channels=[samples.slack_channel],
        )

    def run(self, agent: Agent) -> SeedReport:
        report = SeedReport()
        with self.sessions() as session:
            before = seeded(session)
        known = dict(before)
        for sample in self.samples.samples:
            if sample.key in before:
                report.skipped[sample.key] = before[sample.key]
                continue
            ticket_id = self._open(sample, report)
            if ticket_id is None:
                report.answered.append(sample.key)
                continue
            self._mark(sample.key, ticket_id)
            known[sample.key] = ticket_id
            report.created[sample.key] = ticket_id
            self._work(sample, ticket_id, agent, known)
        return report

    # -- the developer's side ---------------------------------------------------------
    def _open(self, sample: Sample, report: SeedReport) -> str | None:
        if sample.kind == "slack":
            return self.inbox.create(self._slack(sample, sample.message, sample.ts))
        if sample.kind == "help":
            answer = self.tickets.answer_or_hand_off(
                sample.message, Contact(email=sample.email, name=sample.name)
            )
            report.help_token = answer.conversation_token or report.help_token
            return answer.ticket_id
        new = NewTicket(
            message=sample.message,
            channel="api",
            reporter=sample.reporter,
            metadata={"source": "demo"},
        )
        return self.tickets.create_now(new, actor=ACTOR).id

    def _slack(
        self, sample: Sample, text: str, ts: str | None, thread: str | None = None
    ) -> SlackMessage:
        if ts is None:
            raise DemoSeedError(f"sample {sample.key}: a Slack message needs its ts")
        return SlackMessage(
            event_id=f"EvDEMO{ts.replace('.', '')}",
            event_type="message",
            team_id=self.samples.slack_team,
            channel=self.samples.slack_channel,
            user=sample.user,
            text=text,
            ts=ts,
            thread_ts=thread or ts,
        )

    def _mark(self, sample: str, ticket_id: str) -> None:
        with self.sessions.begin() as session:
            audit.record(
                session, ticket_id=ticket_id, actor=ACTOR, action=SEEDED, detail={"sample": sample}
            )

    # -- the agent's side -------------------------------------------------------------
    def _work(self, sample: Sample, ticket_id: str, agent: Agent, known: dict[str, str]) -> None:
        if sample.take:
            self.conversations.assign(
                ticket_id, actor=agent.actor, me=agent.name, assignee=None, take=True
            )
        if sample.note:
            self.conversations.write(ticket_id, sample.note, internal=True, actor=agent.actor)
        if sample.approve:
            self._approve(ticket_id, agent, set(known.values()))
        for follow_up in sample.follow_ups:
            self.inbox.create(self._slack(sample, follow_up.text, follow_up.ts, sample.ts))
        if sample.link_to is not None:
            other = known.get(sample.link_to)
            if other is None:
                raise DemoSeedError(f"sample {sample.key}: link_to {sample.link_to!r} is unknown")
            self.conversations.link(ticket_id, other, actor=agent.actor, kind="incident")
        if sample.solve:
            self.conversations.change_status(ticket_id, "solve", actor=agent.actor)

    def _approve(self, ticket_id: str, agent: Agent, demo: set[str]) -> None:
        draft = self.tickets.get(ticket_id).ticket.pending_draft
        if draft is None:
            raise DemoSeedError(f"ticket {ticket_id} has no draft to approve")
        self.review.approve(draft.id, reviewer=agent.actor, text=None, expected_version=None)
        # Delivered before anything else happens to the ticket (a reply is "sent" first).
        self._deliver(demo)

    def _deliver(self, demo: set[str]) -> None:
        with self.sessions() as session:
            others = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.ticket_id.not_in(demo),
                )
            )
        if others:
            log.warning("demo replies left to the workers: the outbox holds other replies")
            return

        def record(message: OutboxMessage) -> None:
            # No Slack workspace in the demo: a reply in a thread is recorded as delivered.
            if message.ticket_id not in demo:
                raise NotADemoReply(message.id)
            record_delivery(message)

        outbox.deliver_pending(
            self.sessions, record, "demo-seed", limit=10, stale_after=60, max_attempts=3
        )
