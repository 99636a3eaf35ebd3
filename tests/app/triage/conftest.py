"""Fixtures shared by the triage tests."""

from tests.fakes import fake_openai

__all__ = ["fake_openai"]
