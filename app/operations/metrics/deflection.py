"""The self-service section of GET /v1/stats: answers /v1/ask gave in the range, the
asker's verdicts, and deflection under the configured window.

An answer is *settled* once its window has passed (answered at or before now − window)
and its asker is known (the /help page sends a per-browser id; API callers may send
none).  A settled answer is *deflected* when the asker did not say it didn't help and
opened no ticket from /help within the window after it.  Read from the
metric_self_service_answers view (one row per answer, no grouping joins: cheap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class SelfService:
    answered: int = 0
    helpful: int = 0
    didnt_help: int = 0
    handed_off: int = 0
    asker_known: int = 0
    settled: int = 0
    deflected: int = 0

    @property
    def deflection_rate(self) -> float | None:
        return self.deflected / self.settled if self.settled else None


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def answers_sql(key: str | None) -> str:
    settled = "asker_known = 1 AND created_at <= :settled_before"
    no_ticket = "(seconds_to_next_ticket IS NULL OR seconds_to_next_ticket > :window_seconds)"
    return f"""
SELECT {key or "NULL"} AS grp, COUNT(*) AS answered,
  {_count("feedback = 'helpful'")} AS helpful, {_count("didnt_help = 1")} AS didnt_help,
  {_count("asker_known = 1")} AS asker_known, {_count(settled)} AS settled,
  {_count(f"{settled} AND didnt_help = 0 AND {no_ticket}")} AS deflected
FROM metric_self_service_answers
WHERE created_at >= :start AND created_at < :end
{f"GROUP BY {key}" if key else ""}"""


def params(now: datetime, window: timedelta) -> dict[str, object]:
    return {"settled_before": now - window, "window_seconds": int(window.total_seconds())}
