"""Export of a run's placements as a spreadsheet (only the rows the caller may see)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import RunKind
from app.repositories.runs import RunRepository
from app.security import Principal
from app.services.runs import RunService
from app.tabular import write_csv, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_run(session: Session, principal: Principal, run_id: int, file_format: str) -> tuple[bytes, str]:
    service = RunService(session, principal)
    run = service.get(run_id)
    rows = []
    for placement, college_id, program_id, enterprise_id in RunRepository(session).placement_context(
            service.chain_of(run), principal):
        if run.kind == RunKind.INTERNSHIP:
            subject, target = placement.student_id, placement.opening_id
        else:
            subject, target = placement.course_need_id, placement.lecturer_id
        rows.append([placement.id, subject, target, college_id, program_id, enterprise_id,
                     None if placement.score is None else round(placement.score, 6), placement.status.value,
                     placement.run_id])
    header = (["placement_id", "student_id", "opening_id"] if run.kind == RunKind.INTERNSHIP
              else ["placement_id", "course_need_id", "lecturer_id"])
    header += ["college_id", "program_id", "enterprise_id", "score", "status", "run_id"]
    if file_format == "xlsx":
        return write_xlsx(header, rows, title=f"run {run.id}"), XLSX
    return write_csv(header, rows), "text/csv; charset=utf-8"
