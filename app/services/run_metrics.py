"""Allocation runs as Prometheus sees them: how many are in each status, and how long their
phases took."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.models import RunKind, RunStatus
from app.repositories.run_metrics import RunMetricsRepository


@dataclass(frozen=True)
class RunMetrics:
    # Every (kind, status), zero included, so a series does not vanish when its last run moves on.
    by_status: dict[tuple[str, str], int]
    # (kind, phase) → the durations in seconds of that phase in every finished run.
    phase_seconds: dict[tuple[str, str], list[float]]


def run_metrics(session: Session) -> RunMetrics:
    repo = RunMetricsRepository(session)
    by_status = {(kind.value, status.value): 0 for kind in RunKind for status in RunStatus}
    for kind, status, n in repo.status_counts():
        by_status[(kind, status)] = n
    phases: dict[tuple[str, str], list[float]] = defaultdict(list)
    for kind, times in repo.finished_phase_times():
        for phase, seconds in times.items():
            if isinstance(seconds, int | float) and math.isfinite(seconds):
                phases[(kind, str(phase))].append(float(seconds))
    return RunMetrics(by_status, dict(phases))
