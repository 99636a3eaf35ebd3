"""Earned auto-send: calibration of draft confidence against agents' verdicts, and a
per-category policy that sends drafts without an agent only after measuring, on reviewed
drafts, that the ones it would send get approved unedited."""
