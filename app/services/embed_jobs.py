"""Embedding jobs end to end: a sync planned into the database, workers that claim it.

``enqueue`` runs the ordinary sync (ingest/sync.py) with a queue instead of a writer: it
parses, chunks and screens the docs and decides what changed exactly as ``triage ingest``
does, but each flush of documents becomes jobs in the database (app/store/embed_jobs.py)
of at most ``ingest_job_chunks`` chunks.  ``EmbedWorker`` (``triage ingest-worker``, on any
machine pointed at the same database and Chroma server) claims jobs one at a time and
runs them (ingest/embed_jobs.py).  Nothing needs the doc files but the planner.

A job that raises is given back for a retry, and failed for good on its last attempt
(``ingest_job_max_attempts``).  The database keeps only the exception's class as the
reason: its message can quote a file path, a URL with credentials or a document's text,
and every operator reads that table; the whole message goes to this worker's log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.knowledge import KnowledgeBase
from app.settings import Settings
from app.store import embed_jobs as jobs
from app.store import embed_runs as runs
from app.store.columns import utcnow
from ingest.doc_writes import DocWrite
from ingest.embed_jobs import (
    JobResult,
    embed_payload,
    finish_payload,
    run_embed_job,
    run_finish_job,
)
from ingest.sync_report import ProgressCallback
from ingest.vectorstore import EmbeddingMismatchError

log = logging.getLogger(__name__)


class DatabaseQueue:
    """The sync's JobQueue: packs whole documents into jobs of the run being planned."""

    def __init__(
        self, sessions: sessionmaker[Session], run_id: str, *, job_chunks: int, lease: timedelta
    ) -> None:
        self.sessions = sessions
        self.run_id = run_id
        self.job_chunks = job_chunks
        self.lease = lease
        self.jobs = 0
        self.chunks = 0

    def add(self, writes: list[DocWrite], reuse: Mapping[str, str]) -> None:
        batch: list[DocWrite] = []
        for write in writes:
            if batch and sum(len(w.ids) for w in batch) + len(write.ids) > self.job_chunks:
                self._add_job(batch, reuse)
                batch = []
            batch.append(write)
        if batch:
            self._add_job(batch, reuse)

    def _add_job(self, batch: list[DocWrite], reuse: Mapping[str, str]) -> None:
        chunks = sum(len(w.ids) for w in batch)
        with self.sessions.begin() as session:
            jobs.add_job(
                session, self.run_id, embed_payload(batch, reuse), chunks, lease=self.lease
            )
        self.jobs += 1
        self.chunks += chunks

    def seal(self, touched: set[str], delete: list[str]) -> None:
        with self.sessions.begin() as session:
            jobs.seal(session, self.run_id, finish_payload(touched, delete), lease=self.lease)


def enqueue(
    kb: KnowledgeBase,
    sessions: sessionmaker[Session],
    paths: Iterable[Path],
    *,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Plan a sync of ``paths`` into jobs; returns the run's summary and the sync report
    (its chunk and embedding counts are the workers' to fill)."""
    lease = timedelta(seconds=kb.settings.ingest_job_lease_seconds)
    with sessions.begin() as session:
        run_id = jobs.start_run(session, kb.store.name, lease=lease)
    queue = DatabaseQueue(sessions, run_id, job_chunks=kb.settings.ingest_job_chunks, lease=lease)
    report = kb.synchronizer(progress=progress, queue=queue).sync(paths)
    with sessions.begin() as session:
        jobs.record_report(session, run_id, report.as_dict())
        summary = runs.run_summary(session, run_id)
    return {**summary, "report": report.as_dict()}


@dataclass
class WorkerReport:
    jobs_done: int = 0
    jobs_lost: int = 0
    jobs_failed: int = 0  # given back for a retry
    jobs_given_up: list[str] = field(default_factory=list)  # failed for good, by this worker
    runs_finished: list[str] = field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0
    embeddings_computed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def job_error(exc: BaseException, attempt: int, max_attempts: int) -> str:
    """What the database keeps of a job's error: the exception's class, never its message."""
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return f"{name} on attempt {attempt} of {max_attempts}"


class _Heartbeat:
    """Renews a job's lease every third of it while the job runs, so only a dead (or
    frozen) worker's job is ever taken over, however slow the machine or the job."""

    def __init__(self, worker: EmbedWorker, claim: jobs.Claim) -> None:
        self.worker = worker
        self.claim = claim
        self.held = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="embed-job-lease", daemon=True)

    def beat(self) -> bool:
        """Renew now; False once another worker has taken the job over."""
        if self.held:
            with self.worker.sessions.begin() as session:
                self.held = jobs.renew(
                    session, self.claim, lease=self.worker.lease, now=self.worker.clock()
                )
        return self.held

    def _loop(self) -> None:
        while self.held and not self._stop.wait(self.worker.lease.total_seconds() / 3):
            try:
                self.beat()
            except Exception as exc:  # the database blinked: try again next beat
                log.warning("embedding job %s: lease renewal failed: %s", self.claim.job_id, exc)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class EmbedWorker:
    """Claims and runs embedding jobs, one at a time, against one database."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        worker_id: str,
        knowledge_base: Callable[[str], KnowledgeBase],
        on_run_finished: Callable[[KnowledgeBase], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        # What `triage ingest` does after a sync (re-check reusable answers), once a run is.
        self.on_run_finished = on_run_finished
        self.worker_id = worker_id
        self.lease = timedelta(seconds=settings.ingest_job_lease_seconds)
        self.max_attempts = settings.ingest_job_max_attempts
        self.clock = clock  # leases and retry backoffs are measured on it
        self._knowledge_base = knowledge_base
        self._kbs: dict[str, KnowledgeBase] = {}
        self.report = WorkerReport()

    def _kb(self, collection: str) -> KnowledgeBase:
        if collection not in self._kbs:
            self._kbs[collection] = self._knowledge_base(collection)
        return self._kbs[collection]

    def step(self) -> bool:
        """Claim and run one job; False when none was due."""
        with self.sessions.begin() as session:
            claimed = jobs.claim(
                session,
                self.worker_id,
                lease=self.lease,
                max_attempts=self.max_attempts,
                now=self.clock(),
            )
        if not claimed:
            return False
        claim = claimed[0]
        try:
            result = self._run(claim)
        except EmbeddingMismatchError:
            # This worker's model is not the collection's: its fault, not the job's, so
            # the job goes back unfailed (one more attempt allowed) and the worker stops.
            with self.sessions.begin() as session:
                jobs.fail(
                    session,
                    claim,
                    error="a worker with another embedding model claimed it",
                    max_attempts=claim.attempts + 1,
                    now=self.clock(),
                )
            raise
        except Exception as exc:  # Chroma or the model failed: retried after a backoff
            log.warning("embedding job %s failed: %s", claim.job_id, exc)
            self._fail(claim, exc)
            return True
        with self.sessions.begin() as session:
            done = not result.lost and jobs.complete(
                session, claim, embedded=result.embedded, now=self.clock()
            )
        r = self.report
        r.embeddings_computed += result.embedded
        if not done:
            r.jobs_lost += 1
            return True
        r.jobs_done += 1
        r.chunks_written += result.chunks_written
        r.chunks_deleted += result.chunks_deleted
        if claim.kind == "finish":
            r.runs_finished.append(claim.run_id)
            if self.on_run_finished is not None:
                try:
                    self.on_run_finished(self._kb(claim.collection))
                except Exception as exc:  # the run is done; this check is the caller's extra
                    log.warning("after run %s: %s", claim.run_id, exc)
        return True

    def _fail(self, claim: jobs.Claim, exc: Exception) -> None:
        reason = job_error(exc, claim.attempts, self.max_attempts)
        with self.sessions.begin() as session:
            status = jobs.fail(
                session, claim, error=reason, max_attempts=self.max_attempts, now=self.clock()
            )
        if status == "failed":
            log.error(
                "embedding job %s of run %s failed for good: %s", claim.job_id, claim.run_id, reason
            )
            self.report.jobs_given_up.append(claim.job_id)
        elif status == "pending":
            self.report.jobs_failed += 1

    def _run(self, claim: jobs.Claim) -> JobResult:
        kb = self._kb(claim.collection)
        with _Heartbeat(self, claim) as heartbeat:
            if claim.kind == "finish":
                return run_finish_job(kb.store, kb.retriever.lexical_store, claim.payload)
            return run_embed_job(
                kb.store,
                kb.embeddings,
                claim.payload,
                retry=claim.attempts > 1,
                still_held=heartbeat.beat,
            )

    def run(self, *, until_idle: bool, poll_seconds: float, stop: Callable[[], bool]) -> None:
        """Work until ``stop()``; with ``until_idle``, also once no sealed run has work left."""
        started = time.monotonic()
        try:
            while not stop():
                if self.step():
                    continue
                if until_idle:
                    with self.sessions.begin() as session:
                        if runs.open_runs(session) == 0:
                            return
                time.sleep(poll_seconds)
        finally:
            self.report.seconds = time.monotonic() - started
