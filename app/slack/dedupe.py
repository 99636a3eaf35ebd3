"""De-duplication of Slack events, in two layers.

Across processes the database decides: ``app.store.slack_events`` records each handled
message in its ticket's own transaction (see ``app.slack.intake``).  Here are the two
pieces around that record:

* ``InFlight``: the keys of messages this process is turning into tickets right now, so
  a retry that arrives meanwhile is a duplicate at once, without a second triage run.
  Keys leave when the work ends (not after a time to live): from then on the database
  row answers.
* ``SlackEventPruner``: the periodic clean-up of that record.  Slack retries an event
  within the hour, so rows older than ``RETENTION`` guard against nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session, sessionmaker

from app.slack.events import SlackMessage
from app.store import slack_events
from app.store.columns import utcnow

log = logging.getLogger(__name__)

# Far beyond Slack's last retry (about 30 minutes after the first delivery) and the
# ``message`` / ``app_mention`` pair of one post (seconds apart).
RETENTION: Final = timedelta(days=7)
PRUNE_EVERY: Final = timedelta(hours=1)


def keys_of(message: SlackMessage) -> tuple[str, str]:
    """Both names of one message: its event id and its channel + ``ts``."""
    return (f"event:{message.event_id}", f"msg:{message.channel}:{message.ts}")


class InFlight:
    """Messages being handled by this process (their ``keys_of``)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __contains__(self, message: SlackMessage) -> bool:
        return not self._keys.isdisjoint(keys_of(message))

    def add(self, message: SlackMessage) -> tuple[str, str]:
        keys = keys_of(message)
        self._keys.update(keys)
        return keys

    def discard(self, keys: Iterable[str]) -> None:
        self._keys.difference_update(keys)


class SlackEventPruner:
    """Deletes ``slack_events`` rows older than ``retention``, at most once per ``every``.

    ``run_once`` is a background-worker step (``app.services.workers``): called every
    poll, it only touches the database when a prune is due.  Several processes pruning
    the same rows is harmless: the delete is idempotent.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        retention: timedelta = RETENTION,
        every: timedelta = PRUNE_EVERY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.retention = retention
        self.every = every
        self.clock = clock
        self._due: datetime | None = None

    def run_once(self) -> int:
        """How many rows were deleted (0 when no prune was due)."""
        now = self.clock()
        if self._due is not None and now < self._due:
            return 0
        self._due = now + self.every
        with self.sessions.begin() as session:
            deleted = slack_events.prune(session, before=now - self.retention)
        if deleted:
            log.info("pruned %d slack events older than %s", deleted, self.retention)
        return deleted
