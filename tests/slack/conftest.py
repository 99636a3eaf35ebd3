"""Fixtures for the end-to-end Slack test: the live service and the Web API stand-in."""

from __future__ import annotations

# The live-service fixture of the browser tests and the Slack stand-in of the unit tests.
from tests.app.slack.conftest import fake_slack
from tests.web.conftest import start_app

__all__ = ["fake_slack", "start_app"]
