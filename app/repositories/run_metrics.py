"""What /metrics reports about allocation runs, read from the store at scrape time: the workers
are other processes (often other machines), and the runs table is what they all write."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AllocationRun


class RunMetricsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def status_counts(self) -> list[tuple[str, str, int]]:
        """(kind, status, number of runs) for every combination present."""
        rows = self.session.execute(
            select(AllocationRun.kind, AllocationRun.status, func.count()).group_by(AllocationRun.kind,
                                                                                    AllocationRun.status))
        return [(str(kind), str(status), int(n)) for kind, status, n in rows]

    def finished_phase_times(self) -> list[tuple[str, dict[str, Any]]]:
        """(kind, phase → seconds) of every finished run."""
        rows = self.session.execute(
            select(AllocationRun.kind, AllocationRun.phase_times).where(AllocationRun.finished_at.is_not(None)))
        return [(str(kind), dict(times or {})) for kind, times in rows]
