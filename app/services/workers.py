"""Background worker threads: drafting, outbox delivery and housekeeping (pruning the
Slack event record, the SLA sweep that marks tickets whose due time passed, refreshing
the metric fact tables), inside a serving process.

Threads, not asyncio tasks: both loops call blocking code (SQLAlchemy, the pipeline,
an LLM client, Slack's HTTP client) and must never stall the event loop.  Each loop
polls the database every ``worker_poll_seconds`` and is also woken at once by the API
when it creates a ticket or approves a draft, so a reply normally leaves within
milliseconds.  All coordination goes through the database (outbox claims, drafting
leases), so any number of processes can run these loops against one database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from app.conversations.clocks import SlaClocks
from app.conversations.policy import load_sla_policy
from app.conversations.sweep import SlaSweep
from app.observability import Metrics
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.refresh import MetricRefresher
from app.services.delivery import OutboxRunner
from app.services.drafting import DraftingWorker
from app.services.runtime import Runtime
from app.slack.dedupe import SlackEventPruner
from app.store.outbox import Sender

log = logging.getLogger(__name__)

# Longest a worker waits after an unexpected error before trying again.
ERROR_BACKOFF_SECONDS = 5.0
HOUSEKEEPING_POLL_SECONDS = 60.0


def new_worker_id() -> str:
    """host:pid:random — unique per process start, readable in the outbox's claimed_by."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Loop:
    """One thread repeatedly calling ``step`` (returns how much work it did)."""

    def __init__(
        self, name: str, step: Callable[[], int], poll: float, stop: threading.Event
    ) -> None:
        self.name = name
        self.step = step
        self.poll = poll
        self.stop = stop
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.wake.clear()
            try:
                busy = self.step() > 0
            except Exception:
                log.exception("worker %s failed; retrying", self.name)
                self.stop.wait(min(self.poll * 5, ERROR_BACKOFF_SECONDS))
                continue
            if not busy:
                self.wake.wait(self.poll)


class BackgroundWorkers:
    """The drafting loops and the outbox loop of one process."""

    def __init__(
        self,
        runtime: Runtime,
        metrics: Metrics,
        sender: Sender,
        *,
        worker_id: str | None = None,
        clocks: SlaClocks | None = None,
    ) -> None:
        settings = runtime.settings
        clocks = clocks or SlaClocks(load_sla_policy(settings.sla_policy_path))
        self.worker_id = worker_id or new_worker_id()
        self._stop = threading.Event()
        poll = settings.worker_poll_seconds
        # The drafting lease must outlast one pipeline run including the LLM's retries.
        lease = max(60.0, 4 * settings.llm_timeout_seconds * (settings.llm_max_retries + 1))
        drafter = DraftingWorker(
            runtime, metrics, self.worker_id, lease_seconds=lease, clocks=clocks
        )
        runner = OutboxRunner(
            runtime.sessions,
            sender,
            metrics,
            self.worker_id,
            stale_after=settings.outbox_stale_after_seconds,
            max_attempts=settings.outbox_max_attempts,
        )
        # Without an LLM tickets are drafted in the request; one loop is enough to pick
        # up tickets another (LLM) process left in drafting.
        drafting_threads = settings.drafting_concurrency if settings.llm_enabled else 1
        self._drafting = [
            _Loop(f"drafting-{i}", drafter.run_once, poll, self._stop)
            for i in range(drafting_threads)
        ]
        self._outbox = _Loop("outbox", runner.run_once, poll, self._stop)
        # The first prune runs at start, then once an hour (the pruner keeps the time);
        # asking every minute is often enough.
        pruner = SlackEventPruner(runtime.sessions)
        self._housekeeping = _Loop(
            "slack-prune", pruner.run_once, max(poll, HOUSEKEEPING_POLL_SECONDS), self._stop
        )
        sweep = SlaSweep(runtime.sessions, clocks)
        self._sla = _Loop("sla-sweep", sweep.run_once, settings.sla_sweep_seconds, self._stop)
        # Keeps the metric fact tables current, so GET /v1/stats rarely has any to refresh.
        refresher = MetricRefresher(runtime.engine, config=MetricsConfig.from_settings(settings))
        self._metrics = _Loop(
            "metric-refresh",
            refresher.run_once,
            max(poll, HOUSEKEEPING_POLL_SECONDS),
            self._stop,
        )

    @property
    def loops(self) -> list[_Loop]:
        return [*self._drafting, self._outbox, self._housekeeping, self._sla, self._metrics]

    def start(self) -> None:
        for loop in self.loops:
            loop.thread.start()
        log.info("background workers started", extra={"worker_id": self.worker_id})

    def wake_drafting(self) -> None:
        for loop in self._drafting:
            loop.wake.set()

    def wake_outbox(self) -> None:
        self._outbox.wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every loop to finish its current step, then wait for them (bounded)."""
        self._stop.set()
        for loop in self.loops:
            loop.wake.set()
        for loop in self.loops:
            if loop.thread.is_alive():
                loop.thread.join(timeout)
                if loop.thread.is_alive():
                    log.warning("worker %s still busy at shutdown", loop.name)
