"""What the web UI shows around placements: published placements per college or enterprise, and
the names behind the ids of a run's KPIs.  Read-only; tenancy comes from the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import College, Enterprise, PlacementStatus, Program, Role
from app.errors import Forbidden
from app.repositories.placement_views import (
    STUDENT_SORTS,
    UNPLACED,
    PlacementViewRepository,
    StudentDirectoryRepository,
    StudentQuery,
    lecturer_placements,
)
from app.repositories.runs import RunRepository
from app.security import Principal


class PlacementViews:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.principal = principal
        self.repo = PlacementViewRepository(session)

    def published(self, *, opening_id: int | None = None, statuses: Sequence[PlacementStatus] = (),
                  program_id: int | None = None, placement_id: int | None = None,
                  limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        rows = self.repo.published_internships(self.principal, opening_id=opening_id, statuses=statuses,
                                               program_id=program_id, placement_id=placement_id, limit=limit,
                                               offset=offset)
        if self.principal.role not in (Role.PLACEMENT_OFFICE, Role.ADMIN):
            # A student's name is personal data: only their own college sees it; enterprises see the number.
            for row in rows:
                row["student_name"] = None
        return rows

    def unplaced(self) -> list[dict[str, Any]]:
        """The college's students the current round of each scope left without a placement, with
        the reason codes the solver gave (its own college's students only)."""
        college = self.principal.college_id
        if self.principal.role is not Role.PLACEMENT_OFFICE or college is None:
            return []
        rows: list[dict[str, Any]] = []
        for run in self.repo.current_internship_runs(self.principal):
            items = [u for u in run.unplaced or [] if str(u.get("college_id")) == str(college)]
            people = self.repo.students_of_college(college, (int(u["id"]) for u in items if str(u["id"]).isdigit()))
            rows += [{**people[int(u["id"])], "run_id": run.id, "round": run.round, "reasons": list(u["reasons"])}
                     for u in items if str(u["id"]).isdigit() and int(u["id"]) in people]
        return rows

    def names(self, *, colleges: Iterable[int] = (), enterprises: Iterable[int] = (),
              programs: Iterable[int] = (), openings: Iterable[int] = (),
              students: Iterable[int] = ()) -> dict[str, dict[int, str]]:
        """College, enterprise, program and opening names by id (names are not personal data), and
        student numbers for a scheduler or admin (who see every run's students) only."""
        sees_students = self.principal.role in (Role.SCHEDULER, Role.ADMIN)
        return {"colleges": self.repo.names(College, colleges), "enterprises": self.repo.names(Enterprise, enterprises),
                "programs": self.repo.names(Program, programs), "openings": self.repo.opening_titles(openings),
                "students": self.repo.student_numbers(students) if sees_students else {}}

    def students(self, query: StudentQuery) -> tuple[list[dict[str, Any]], int]:
        """A page of the college's own students with their standing placement, and the match count."""
        college = self.principal.college_id
        if self.principal.role is not Role.PLACEMENT_OFFICE or college is None:
            raise Forbidden("the student list shows a college's own students", code="wrong_role")
        return StudentDirectoryRepository(self.repo.session).page(college, query)

    def contacts(self, placement_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """Name and phone of placed students, for the placement's enterprise and the student's own
        college, while the placement stands (the API's rule: ``RunRepository.placed_student_contacts``)."""
        return RunRepository(self.repo.session).placed_student_contacts(self.principal, list(placement_ids))

    def standing(self, student_id: int) -> tuple[int, PlacementStatus] | None:
        """The placement that stands for a student the caller has already read (tenancy checked there)."""
        return StudentDirectoryRepository(self.repo.session).current_placement(student_id)

    def lecturer_placements(self, *, course_need_ids: Iterable[int] = (), current_only: bool = False,
                            limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        """Lecturer placements of published runs the caller may see: an enterprise its lecturers',
        a college those on its course needs (the same rule as the API's placements)."""
        return lecturer_placements(self.repo.session, RunRepository.placement_visibility(self.principal),
                                   enterprise_id=self.principal.enterprise_id, course_need_ids=course_need_ids,
                                   current_only=current_only, limit=limit, offset=offset)


__all__ = ["STUDENT_SORTS", "UNPLACED", "PlacementViews", "StudentQuery"]
