"""Saved SQL investigations: named, parameterised templates under ``queries/`` run
read-only on SQLite or PostgreSQL (``triage sql``)."""
