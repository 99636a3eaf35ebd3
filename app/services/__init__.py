"""Orchestration between the triage pipeline and the durable store.

The API routes and the background workers call these; they hold no HTTP concepts
except the idempotency helper, which stores rendered response bytes for replay.
"""
