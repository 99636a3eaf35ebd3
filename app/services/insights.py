"""Operations insights for support leads: the knowledge-gap report and the calibration
of draft confidence with where each category's earned auto-send stands."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.operations.autosend.calibration import Reliability, reliability_by_category
from app.operations.autosend.gate import AutoSendGate
from app.operations.autosend.status import AutoSendStatus, policy_status
from app.operations.gaps.report import GapReport, GapReporter
from app.services.runtime import Runtime
from app.store.columns import utcnow


class CalibrationReport(BaseModel):
    reliability: list[Reliability] = Field(
        description="Per category (`all` first): draft confidence against the agents' "
        "verdicts (approved unedited), in ten confidence bins."
    )
    autosend: AutoSendStatus


def calibration_report(
    session: Session,
    gate: AutoSendGate,
    since: datetime | None = None,
    until: datetime | None = None,
) -> CalibrationReport:
    return CalibrationReport(
        reliability=reliability_by_category(session, since, until),
        autosend=policy_status(session, gate, now=utcnow()),
    )


class InsightsService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.gap_reporter = GapReporter(runtime.settings, runtime.kb, runtime.sessions)

    def gaps(self, since: datetime | None = None, *, limit: int | None = None) -> GapReport:
        """CPU-bound (embeddings, clustering): call from a worker thread."""
        report = self.gap_reporter.report(since)
        if limit is not None:
            report.gaps[limit:] = []
        return report

    def calibration(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> CalibrationReport:
        with self.runtime.sessions() as session:
            return calibration_report(session, self.runtime.auto_send, since, until)
