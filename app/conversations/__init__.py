"""A ticket as a conversation: follow-ups, agent replies and notes, the agent's workflow
actions (assign, recategorise, solve, merge…) and SLA clocks.

Domain services: they take and return domain values and raise the store's domain
errors; the HTTP edge is app/api/routes/conversations.py.
"""
