"""Replaying a run: its instance rebuilt from the store, checked against the run's input digest."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.db.models import RunKind
from app.errors import Conflict, NotFound
from app.instance_export import write_internship_instance, write_lecturer_instance
from app.repositories.runs import RunRepository
from app.services import allocation_job as job
from app.settings import Settings


def export_run_instance(sessions: sessionmaker[Session], settings: Settings, run_id: int, directory: Path) -> str:
    """Write run ``run_id``'s instance to ``directory``; returns its input digest.

    Refuses when the stored data changed since the run (the digest differs): the instance would
    not be the one the run solved.
    """
    with sessions.begin() as session:
        run = RunRepository(session).get(run_id)
        if run is None:
            raise NotFound.of("allocation run", run_id)
        run_job = job.load_job(session, run, staff_share=settings.max_intern_share_of_staff,
                               post_share=settings.max_intern_share_of_post)
        run_job.candidates()
        problem, solver_params = run_job.instance()
        digest = job.input_digest(problem, solver_params)
        _same_inputs(run.input_digest, digest, run_id)
        write_instance = write_internship_instance if run.kind == RunKind.INTERNSHIP else write_lecturer_instance
        write_instance(directory, problem, solver_params, settings.allocation_executor)
    return digest


def _same_inputs(stored: str | None, current: str, run_id: int) -> None:
    if stored is not None and stored != current:
        raise Conflict(f"the data of run {run_id} changed since it ran (input digest {stored[:12]}… is now "
                       f"{current[:12]}…); its instance can no longer be rebuilt")
