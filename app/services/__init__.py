"""Orchestration between the triage pipeline and the durable store.

The API routes and the background workers call these.  They take and return domain
values (tickets, drafts) and raise the store's domain errors; they hold no HTTP
concepts: Idempotency-Key replay lives at the API edge (app/api/idempotency.py), which
hands a service the ``Transaction`` its work runs in.
"""
