"""Earned auto-send: a per-category policy that sends drafts without an agent only after
measuring, on reviewed drafts, that the ones it would send get approved unedited."""
