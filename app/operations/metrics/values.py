"""Values read from either database, made comparable: the same row prints the same.

SQLite hands back an instant as the text it stores (``2024-03-04 09:00:00.000000``),
PostgreSQL as a ``datetime``; sums may come back as ``Decimal`` on PostgreSQL.  Both
become one form: instants as ISO 8601 UTC text (``2024-03-04T09:00:00Z``), whole
decimals as ``int``, other decimals as ``float``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# The text form SQLAlchemy stores a UTC instant in on SQLite.
_SQLITE_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def instant_text(value: datetime) -> str:
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """One value in its database-independent form (JSON-serialisable)."""
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, str) and _SQLITE_INSTANT.match(value):
        return instant_text(datetime.fromisoformat(value))
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool):
        return int(value)
    return value


def plain_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, (plain(v) for v in row), strict=True)) for row in rows]


def plain_mapping(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in row.items()}
