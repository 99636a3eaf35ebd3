from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from app.store.db import create_engine_for, current_revision, downgrade, migrate, normalise_url
from app.store.models import Base

STORE_TABLES = {table.name for table in Base.metadata.sorted_tables}
HEAD = "0012_embed_job_failures"


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_from_empty_creates_every_table_and_matches_the_models(empty_url: str) -> None:
    engine = create_engine_for(empty_url)
    try:
        assert _tables(engine) == set()
        assert current_revision(engine) is None

        migrate(engine)

        assert _tables(engine) == STORE_TABLES | {"alembic_version"}
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        index_names = {ix["name"] for ix in inspect(engine).get_indexes("tickets")}
        assert {"ix_tickets_queue", "ix_tickets_category", "ix_tickets_team"} <= index_names
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op_and_downgrade_base_drops_everything(empty_url: str) -> None:
    engine = create_engine_for(empty_url)
    try:
        migrate(engine)
        migrate(engine)
        assert current_revision(engine) == HEAD

        downgrade(engine, "base")

        assert _tables(engine) == {"alembic_version"}
        assert current_revision(engine) is None
        migrate(engine)
        assert _tables(engine) == STORE_TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_sqlite_connections_are_durable_and_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path}/nested/dir/t.db", busy_timeout_ms=1234)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    finally:
        engine.dispose()


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u:p@db:5432/x") == "postgresql+psycopg://u:p@db:5432/x"
    assert normalise_url("postgres://u@db/x") == "postgresql+psycopg://u@db/x"
    assert normalise_url("postgresql+psycopg2://u@db/x") == "postgresql+psycopg://u@db/x"
    assert normalise_url("sqlite:////tmp/t.db") == "sqlite:////tmp/t.db"


def test_upgrading_renames_duplicate_token_names_before_making_names_unique(
    empty_url: str,
) -> None:
    engine = create_engine_for(empty_url)
    try:
        migrate(engine, "0001_initial")
        with engine.begin() as conn:
            for token_id, created in (("tok_a", "2026-01-01"), ("tok_b", "2026-01-02")):
                conn.execute(
                    text(
                        "INSERT INTO api_tokens (id, name, role, token_hash, prefix, created_at)"
                        " VALUES (:id, 'ops', 'agent', :hash, 'trg_x', :created)"
                    ),
                    {"id": token_id, "hash": token_id * 8, "created": created},
                )
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, name FROM api_tokens")).all()
        names = {str(token_id): str(name) for token_id, name in rows}
        assert names == {"tok_a": "ops", "tok_b": "ops-tok_b"}
    finally:
        engine.dispose()


def test_upgrading_to_0012_keeps_every_embedding_job_but_done_payloads(empty_url: str) -> None:
    # On SQLite, 0012 rebuilds embed_runs, which would cascade-delete every job.
    engine = create_engine_for(empty_url)
    try:
        migrate(engine, "0011_embed_jobs")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO embed_runs (id, collection, open_collection, status,"
                    " planner_until, report, created_at)"
                    " VALUES ('run', 'docs', 'docs', 'open', :at, '{}', :at)"
                ),
                {"at": "2026-12-07 10:00:00+00:00"},
            )
            for seq, status in enumerate(("pending", "pending", "done")):
                conn.execute(
                    text(
                        "INSERT INTO embed_jobs (id, run_id, seq, kind, status, payload,"
                        " chunks, attempts) VALUES (:id, 'run', :seq, 'embed', :status,"
                        ' \'{"writes": ["texts"]}\', 10, 1)'
                    ),
                    {"id": f"job{seq}", "seq": seq, "status": status},
                )
        migrate(engine)
        with engine.begin() as conn:
            kept = conn.execute(text("SELECT id, attempts, payload FROM embed_jobs ORDER BY id"))
            rows = [
                (job_id, n, json.loads(p) if isinstance(p, str) else p) for job_id, n, p in kept
            ]
            conn.execute(text("UPDATE embed_jobs SET status = 'failed' WHERE id = 'job0'"))
        texts = {"writes": ["texts"]}
        assert rows == [("job0", 1, texts), ("job1", 1, texts), ("job2", 1, {})]  # done: dropped

        downgrade(engine, "0011_embed_jobs")  # nothing gave up before: retried again
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT id, status FROM embed_jobs ORDER BY id")).all()
        assert [tuple(row) for row in statuses] == [
            ("job0", "pending"),
            ("job1", "pending"),
            ("job2", "done"),
        ]
    finally:
        engine.dispose()


def _insert_minimal(conn: Connection, table: str, values: dict[str, object]) -> None:
    """A row with every NOT NULL column filled (by its declared type) unless given."""
    row = dict(values)
    for _, name, kind, notnull, default, _pk in conn.exec_driver_sql(f"PRAGMA table_info({table})"):
        if name in row or not notnull or default is not None:
            continue
        declared = str(kind).upper()
        if "INT" in declared or "BOOL" in declared or "NUM" in declared or "FLOAT" in declared:
            row[name] = 0
        elif "DATE" in declared or "TIME" in declared:
            row[name] = "2026-01-01 00:00:00"
        elif "JSON" in declared:
            row[name] = "{}"
        else:
            row[name] = f"{table}-{name}"
    columns = ", ".join(row)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(row)})"), row)


def test_sqlite_table_rebuilds_keep_the_rows_that_reference_the_rebuilt_table(
    tmp_path: Path,
) -> None:
    """Batch mode drops and re-creates a table; with foreign keys enforced, dropping
    `tickets` cascaded to every draft (seen upgrading through 0005)."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        migrate(engine, "0004_draft_lease")
        with engine.begin() as conn:
            _insert_minimal(conn, "tickets", {"id": "tkt_1", "status": "pending_review"})
            _insert_minimal(
                conn,
                "drafts",
                {"id": "drf_1", "ticket_id": "tkt_1", "status": "pending", "version": 1},
            )
        migrate(engine)
        with engine.connect() as conn:
            drafts = conn.execute(text("SELECT id, ticket_id FROM drafts")).all()
            enforced = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert [tuple(d) for d in drafts] == [("drf_1", "tkt_1")]
        assert enforced == 1  # the pool's connection is handed back with checks on again
    finally:
        engine.dispose()
