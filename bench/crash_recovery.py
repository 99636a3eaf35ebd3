"""How long a crash holds things up: an Idempotency-Key and an outbox reply left behind by
a process killed with SIGKILL, recovered by a surviving process on the same database.

    .venv/bin/python bench/crash_recovery.py [--database-url URL] [--models-dir DIR]
        [--idempotency-lease S] [--outbox-lease S]

Two real uvicorn servers share one database (SQLite by default): A (API only) and B
(API and background workers).

* Idempotency-Key: ``POST /v1/tickets`` with a key goes to A; as soon as the key is in
  flight in the database (claimed, the pipeline still running) A is killed with SIGKILL.
  The client then retries the same request against B every 0.25 s; the recovery time
  is from the kill to B's 201 (before leases: 5 minutes of 409s).
* Outbox: a reply claimed by a worker that died before marking it sent (the row state a
  SIGKILL between claim and mark leaves, written through the store) is delivered by B's
  outbox worker; the recovery time is from the claim to ``sent`` (before: 5 minutes).

Prints one line per measurement and one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import REPO
from sqlalchemy import select

from app.services.database import prepare_database
from app.settings import Settings
from app.store import api_tokens, outbox, reviews, tickets
from app.store.models import IdempotencyRecord, OutboxMessage

QUESTION = "Every call to POST /quotes returns 401 Unauthorized in the sandbox. " * 200


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.api:create_app", "--sessions",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)


def idempotency_recovery(sessions: Any, a: subprocess.Popen[bytes], a_url: str, b_url: str,
                         token: str) -> float:  # fmt: skip
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    body = {"message": QUESTION}

    def first_attempt() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it
            httpx.post(f"{a_url}/v1/tickets", json=body, headers=headers, timeout=60)

    threading.Thread(target=first_attempt, daemon=True).start()
    deadline = time.monotonic() + 60
    while True:
        with sessions() as session:
            state = session.scalar(
                select(IdempotencyRecord.state).where(IdempotencyRecord.key == key)
            )
        if state == "in_flight":
            break
        if state == "done" or time.monotonic() > deadline:
            raise SystemExit("the first attempt finished before it could be killed; rerun")
        time.sleep(0.005)
    a.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    a.wait(timeout=10)
    conflicts = 0
    while True:
        sent = time.monotonic()
        response = httpx.post(f"{b_url}/v1/tickets", json=body, headers=headers, timeout=60)
        if response.status_code == 201:
            recovered = time.monotonic() - killed
            print(
                f"idempotency key: killed mid-request; B took the key over "
                f"{sent - killed:.1f} s after the kill ({conflicts} retries answered 409 "
                f"before) and answered 201 {recovered:.1f} s after it (the rest is B "
                "running the request)"
            )
            return recovered
        if response.status_code != 409:
            raise SystemExit(f"unexpected {response.status_code}: {response.text[:300]}")
        conflicts += 1
        time.sleep(0.25)


def outbox_recovery(sessions: Any) -> float:
    with sessions.begin() as session:
        ticket = tickets.create_ticket(session, channel="api", reporter=None, message="q")
        draft = tickets.add_draft(
            session, ticket.id, text="a", citations=[], confidence=0.9, needs_human=False
        )
        reviews.approve(session, draft.id, reviewer="bench")
    with sessions.begin() as session:
        claimed = outbox.claim_batch(session, "worker-killed-before-mark")
    claimed_at = time.monotonic()
    [message_id] = [m.id for m in claimed]
    while True:
        with sessions() as session:
            status = session.scalar(
                select(OutboxMessage.status).where(OutboxMessage.id == message_id)
            )
        if status == "sent":
            recovered = time.monotonic() - claimed_at
            print(f"outbox reply: claimed by a dead worker, sent by B after {recovered:.1f} s")
            return recovered
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--models-dir", type=Path, default=REPO / ".triage" / "models")
    parser.add_argument("--idempotency-lease", type=float, default=None)
    parser.add_argument("--outbox-lease", type=float, default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="crash-recovery-"))
    url = args.database_url or f"sqlite:///{workdir / 'triage.db'}"
    engine, sessions = prepare_database(Settings(database_url=url))
    with sessions.begin() as session:
        token, _ = api_tokens.create_token(session, "integration", f"bench-{uuid.uuid4().hex[:8]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATABASE_URL=url,
        TRIAGE_MODELS_DIR=str(args.models_dir),
        TRIAGE_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    if args.idempotency_lease is not None:
        env["TRIAGE_IDEMPOTENCY_LEASE_SECONDS"] = str(args.idempotency_lease)
    if args.outbox_lease is not None:
        env["TRIAGE_OUTBOX_STALE_AFTER_SECONDS"] = str(args.outbox_lease)
    defaults = Settings(database_url=url)
    a, a_url = start({**env, "TRIAGE_DATA_DIR": str(workdir / "a"), "TRIAGE_RUN_WORKERS": "false"},
                     workdir / "a.log")  # fmt: skip
    b, b_url = start({**env, "TRIAGE_DATA_DIR": str(workdir / "b")}, workdir / "b.log")
    try:
        print(f"database {engine.dialect.name}; leases: idempotency "
              f"{args.idempotency_lease or defaults.idempotency_lease_seconds:.0f} s, outbox "
              f"{args.outbox_lease or defaults.outbox_stale_after_seconds:.0f} s")  # fmt: skip
        idem = idempotency_recovery(sessions, a, a_url, b_url, token)
        sent = outbox_recovery(sessions)
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        engine.dispose()
    print(json.dumps({"database": engine.dialect.name, "idempotency_recovery_s": round(idem, 1),
                      "outbox_recovery_s": round(sent, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
