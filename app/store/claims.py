"""Picking rows to claim, for the outbox and the drafting leases alike.

On PostgreSQL the picked rows are locked first with ``FOR UPDATE SKIP LOCKED``, in their
own statement, so concurrent claimers skip each other's rows instead of queueing behind
them; inlined as ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)``, the
planner may rescan the subquery per row and claim more than ``n`` rows.  On SQLite the
pick stays a subquery of the claiming UPDATE: that UPDATE runs under the single database
write lock, so it is an atomic claim by itself.  Either way the claiming UPDATE must
repeat the "still due" condition, since another claim may have won in between.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import InstrumentedAttribute, Session


def picked(
    session: Session, pick: Select[Any], id_column: InstrumentedAttribute[str]
) -> ColumnElement[bool] | None:
    """The WHERE criterion naming the rows ``pick`` selects (their ids); None when there
    are none to claim."""
    if session.get_bind().dialect.name == "postgresql":
        ids: list[Any] = list(session.scalars(pick.with_for_update(skip_locked=True)))
        return id_column.in_(ids) if ids else None
    return id_column.in_(pick)
