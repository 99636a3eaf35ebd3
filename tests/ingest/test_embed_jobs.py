"""Embedding jobs end to end: `triage ingest --enqueue`'s plan, worked off by real
`triage ingest-worker` processes against one `chroma run` server and one database
(SQLite and PostgreSQL), leaves exactly what a plain in-process sync leaves, even when a
worker is killed mid-job or a job fails on every attempt (the next plan writes its
documents)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.knowledge import build_knowledge_base
from app.services.database import prepare_database
from app.services.embed_jobs import EmbedWorker, enqueue
from app.settings import Settings
from app.store import embed_runs as runs
from app.store.columns import utcnow
from app.store.embed_job_tables import EmbedJob
from ingest.embeddings import CountingEmbeddings
from ingest.sync import Synchronizer
from ingest.vectorstore import EmbeddingMismatchError, KnowledgeBaseStore, make_chroma_client
from tests.chroma_server import chroma_server_at
from tests.conftest import GRID_ROOT, REPO_ROOT
from tests.postgres import PostgresDatabases

LEASE_SECONDS = 3.0


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server_at(tmp_path_factory.mktemp("chroma-jobs")) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PostgresDatabases
) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    return pg_databases.create()


def _grid_pages(dest: Path, count: int) -> Path:
    pages = sorted((GRID_ROOT / "docs" / "guides" / "api-reference").rglob("*.md"))[:count]
    for src in pages:
        target = dest / src.relative_to(GRID_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """About 20 real Grid pages: enough chunks for several jobs per worker (each test sets
    a job size small enough for its own count of jobs)."""
    return _grid_pages(tmp_path / "corpus", 20)


def _settings(tmp_path: Path, models_dir: Path, chroma: str, db: str, **extra: Any) -> Settings:
    return Settings(
        chroma_url=chroma,
        database_url=db,
        models_dir=models_dir,
        data_dir=tmp_path / "planner",
        collection=f"jobs-{tmp_path.name[-20:]}",
        ingest_job_lease_seconds=LEASE_SECONDS,
        **extra,
    )


def _worker(settings: Settings, data_dir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATABASE_URL=str(settings.database_url),
        TRIAGE_CHROMA_URL=str(settings.chroma_url),
        TRIAGE_MODELS_DIR=str(settings.models_dir),
        TRIAGE_DATA_DIR=str(data_dir),
        TRIAGE_INGEST_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_EMBEDDING_THREADS="1",
        TRIAGE_BLOCK_REMOTE_MODELS="true",
        PYTHONPATH=str(REPO_ROOT),
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "ingest-worker",
            "--until-idle",
            "--json",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _report(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    report: dict[str, Any] = json.loads(out)
    return report


def _content(store: KnowledgeBaseStore) -> dict[str, tuple[str, dict[str, Any], np.ndarray]]:
    got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    vectors = got["embeddings"] if got["embeddings"] is not None else []
    return {
        cid: (doc or "", dict(meta or {}), np.asarray(vec))
        for cid, doc, meta, vec in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=True
        )
    }


def _assert_same_as_plain_sync(
    store: KnowledgeBaseStore, chroma: str, corpus: Path, minilm: Any
) -> None:
    plain = KnowledgeBaseStore(
        make_chroma_client(chroma_url=chroma, persist_path="unused"),
        f"{store.name}-plain",
        model_name=store.model_name,
        dimension=store.dimension,
    )
    emb = CountingEmbeddings(minilm, model_name=store.model_name, dimension=store.dimension)
    Synchronizer(plain, emb).sync([corpus])
    jobs_side, reference = _content(store), _content(plain)
    assert sorted(jobs_side) == sorted(reference)  # same ids: nothing missing, nothing extra
    for cid, (text, meta, vec) in reference.items():
        assert jobs_side[cid][0] == text
        assert jobs_side[cid][1] == meta
        assert np.allclose(jobs_side[cid][2], vec, atol=1e-4)


def _jobs(sessions: sessionmaker[Session]) -> list[EmbedJob]:
    with sessions() as s:
        return list(s.scalars(select(EmbedJob).order_by(EmbedJob.seq)))


def test_two_workers_share_the_jobs_and_leave_what_a_plain_sync_leaves(
    tmp_path: Path, models_dir: Path, minilm: Any, chroma_url: str, database_url: str,
    corpus: Path,
) -> None:  # fmt: skip
    minilm.embed_query("export the model before the workers start")
    settings = _settings(tmp_path, models_dir, chroma_url, database_url, ingest_job_chunks=16)
    engine, sessions = prepare_database(settings)
    kb = build_knowledge_base(settings, refresh_seconds=0)
    planned = enqueue(kb, sessions, [corpus])
    assert planned["jobs"] >= 4
    assert kb.store.count() == 0
    revision = kb.store.revision()

    workers = [_worker(settings, tmp_path / f"w{i}") for i in range(2)]
    reports = [_report(w) for w in workers]

    jobs = _jobs(sessions)
    assert all(j.status == "done" for j in jobs)
    assert all(j.payload == {} for j in jobs)  # no texts kept once written
    # Every job done exactly once (none lost, none redone), the run finished once.
    assert sum(r["jobs_done"] for r in reports) == len(jobs) == planned["jobs"] + 1
    assert sum(r["jobs_lost"] for r in reports) == 0
    assert sum(len(r["runs_finished"]) for r in reports) == 1
    assert sum(r["chunks_written"] for r in reports) == planned["chunks"] == kb.store.count()
    assert kb.store.revision() == revision + 1
    _assert_same_as_plain_sync(kb.store, chroma_url, corpus, minilm)
    hits = kb.retriever.search("how do I authenticate with my client id and secret", 3)
    assert hits
    assert hits[0].doc_id.startswith("docs/guides/api-reference/")

    # Nothing changed: the next plan queues no embed job, only the finishing step.
    again = enqueue(kb, sessions, [corpus])
    assert again["jobs"] == 0
    assert again["report"]["docs_unchanged"] > 0
    assert _report(_worker(settings, tmp_path / "w2"))["runs_finished"] == [again["run"]]
    assert kb.store.revision() == revision + 1  # nothing changed, readers keep their index
    engine.dispose()


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(
    tmp_path: Path, models_dir: Path, minilm: Any, chroma_url: str, database_url: str,
    corpus: Path,
) -> None:  # fmt: skip
    minilm.embed_query("export the model before the workers start")
    settings = _settings(tmp_path, models_dir, chroma_url, database_url, ingest_job_chunks=48)
    engine, sessions = prepare_database(settings)
    kb = build_knowledge_base(settings, refresh_seconds=0)
    planned = enqueue(kb, sessions, [corpus])
    assert planned["jobs"] >= 3

    doomed = _worker(settings, tmp_path / "doomed")
    # Kill it as soon as it holds a job it claimed a moment ago (so it is mid-job) after
    # finishing at least one: the collection then holds part of the run.
    victim = None
    deadline = time.monotonic() + 300
    while victim is None and time.monotonic() < deadline:
        fresh = utcnow() + timedelta(seconds=LEASE_SECONDS - 0.3)
        jobs = _jobs(sessions)
        if any(j.status == "done" for j in jobs):
            victim = next(
                (
                    j
                    for j in jobs
                    if j.status == "running" and j.leased_until and j.leased_until > fresh
                ),
                None,
            )
        time.sleep(0.02)
    assert victim is not None, "the worker never got going"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    assert 0 < kb.store.count() < planned["chunks"]

    survivor = _report(_worker(settings, tmp_path / "survivor"))
    by_id = {j.id: j for j in _jobs(sessions)}
    assert all(j.status == "done" for j in by_id.values())
    assert by_id[victim.id].attempts == 2  # its lease ran out and the survivor took it over
    assert survivor["runs_finished"]
    assert survivor["jobs_lost"] == 0
    _assert_same_as_plain_sync(kb.store, chroma_url, corpus, minilm)
    engine.dispose()


def _doc_ids(store: KnowledgeBaseStore) -> set[str]:
    return {str(meta["doc_id"]) for _, meta, _ in _content(store).values()}


def _work_off(worker: EmbedWorker, sessions: sessionmaker[Session], clock: list[datetime]) -> None:
    """Run jobs until no run is open, moving the worker's clock past each retry's backoff."""
    for _ in range(200):
        if worker.step():
            continue
        with sessions() as s:
            if runs.open_runs(s) == 0:
                return
        clock[0] += timedelta(hours=2)
    raise AssertionError("the run never finished")


def test_a_job_failing_on_every_attempt_is_given_up_and_the_next_plan_writes_its_docs(
    tmp_path: Path, models_dir: Path, minilm: Any, chroma_url: str, database_url: str,
) -> None:  # fmt: skip
    minilm.embed_query("export the model first")
    corpus = _grid_pages(tmp_path / "small", 8)
    settings = _settings(
        tmp_path, models_dir, chroma_url, database_url,
        ingest_job_chunks=16, ingest_job_max_attempts=3,
    )  # fmt: skip
    engine, sessions = prepare_database(settings)
    kb = build_knowledge_base(settings, refresh_seconds=0)
    planned = enqueue(kb, sessions, [corpus])
    assert planned["jobs"] >= 3
    # A job Chroma refuses however often it is tried: metadata it cannot store.
    with sessions.begin() as s:
        poison = s.scalars(select(EmbedJob).where(EmbedJob.kind == "embed")).first()
        assert poison is not None
        payload = copy.deepcopy(poison.payload)
        payload["writes"][0]["metadatas"][0]["nested"] = {"not": "storable"}
        poison.payload = payload
        poison_id, poison_docs = poison.id, {w["doc_id"] for w in payload["writes"]}
    all_docs = {w["doc_id"] for j in _jobs(sessions) for w in j.payload.get("writes", [])}

    clock = [utcnow()]
    worker = EmbedWorker(settings, sessions, "w1", lambda _: kb, clock=lambda: clock[0])
    _work_off(worker, sessions, clock)

    assert worker.report.jobs_given_up == [poison_id]
    assert worker.report.jobs_failed == 2  # the first two attempts, given back for a retry
    assert worker.report.runs_finished == [planned["run"]]  # the others still completed
    by_id = {j.id: j for j in _jobs(sessions)}
    assert by_id[poison_id].status == "failed"
    assert by_id[poison_id].attempts == 3
    # The exception's class only: its message quotes the document's metadata.
    assert re.fullmatch(r"[\w.]+ on attempt 3 of 3", by_id[poison_id].last_error or "")
    assert all(j.status == "done" for i, j in by_id.items() if i != poison_id)
    with sessions() as s:
        (summary,) = runs.recent_runs(s, collection=kb.store.name)
    assert summary["status"] == "done"
    assert summary["jobs_failed"] == 1
    assert set(summary["failed"][0]["docs"]) == poison_docs
    assert _doc_ids(kb.store) == all_docs - poison_docs

    # Chroma does not hold the failed documents: the next plan queues exactly them.
    again = enqueue(kb, sessions, [corpus])
    replanned = {
        w["doc_id"]
        for j in _jobs(sessions)
        if j.run_id == again["run"]
        for w in j.payload.get("writes", [])
    }
    assert replanned == poison_docs
    _work_off(worker, sessions, clock)
    assert worker.report.jobs_given_up == [poison_id]
    _assert_same_as_plain_sync(kb.store, chroma_url, corpus, minilm)
    engine.dispose()


def test_a_worker_with_another_model_stops_without_failing_the_job(
    tmp_path: Path, models_dir: Path, minilm: Any, chroma_url: str, database_url: str
) -> None:
    corpus = _grid_pages(tmp_path / "one", 1)
    settings = _settings(tmp_path, models_dir, chroma_url, database_url, ingest_job_max_attempts=1)
    engine, sessions = prepare_database(settings)
    planned = enqueue(build_knowledge_base(settings, refresh_seconds=0), sessions, [corpus])
    misconfigured = build_knowledge_base(settings, refresh_seconds=0)
    misconfigured.store.model_name = "another-model"
    worker = EmbedWorker(settings, sessions, "w1", lambda _: misconfigured)
    with pytest.raises(EmbeddingMismatchError):
        worker.step()
    (job,) = (j for j in _jobs(sessions) if j.kind == "embed")
    assert (job.status, job.attempts) == ("pending", 1)  # a good worker may still take it
    with sessions() as s:
        assert runs.run_summary(s, planned["run"])["jobs_failed"] == 0
    engine.dispose()
