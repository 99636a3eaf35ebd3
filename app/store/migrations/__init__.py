"""Alembic migrations for the review store; run them with ``app.store.db.migrate``."""
