"""Queries of the placement ledger: guarded status moves, seats and hours, chains of rounds.

Every status change is one conditional UPDATE (``... WHERE id = :id AND status = :from``): of two
concurrent moves of one row the database lets exactly one match, and the other sees 0 rows.  Seats
are a counter on the opening moved by a conditional UPDATE under a CHECK constraint.  Only
``app/services/ledger.py`` calls the moves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import (
    CURRENT_PLACEMENT_STATUSES,
    LIVE_PLACEMENT_STATUSES,
    AllocationRun,
    CourseNeed,
    Enterprise,
    Lecturer,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    RunKind,
    RunStatus,
    Student,
)


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # -- runs

    def lock_run(self, run_id: int) -> AllocationRun | None:
        """The run, its row locked until the transaction ends (PostgreSQL; SQLite's write
        transaction already excludes other writers)."""
        stmt = select(AllocationRun).where(AllocationRun.id == run_id)
        if self._postgres:
            stmt = stmt.with_for_update()
        run = self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
        return run

    def move_run(self, run_id: int, sources: Collection[RunStatus], target: RunStatus,
                 values: dict[str, Any]) -> bool:
        result = self.session.execute(
            update(AllocationRun)
            .where(AllocationRun.id == run_id, AllocationRun.status.in_(list(sources)))
            .values(status=target, **values)
            .execution_options(synchronize_session=False))
        return _rowcount(result) == 1

    def published_head(self, kind: RunKind, scope_key: str) -> AllocationRun | None:
        stmt = select(AllocationRun).where(AllocationRun.kind == kind, AllocationRun.scope_key == scope_key,
                                           AllocationRun.status == RunStatus.PUBLISHED)
        return self.session.scalars(stmt).first()

    def chain_ids(self, run: AllocationRun) -> list[int]:
        """The run and its earlier rounds, newest first (a chain is a handful of rounds)."""
        ids = [run.id]
        parent = run.parent_run_id
        while parent is not None and parent not in ids:
            ids.append(parent)
            parent = self.session.scalar(select(AllocationRun.parent_run_id).where(AllocationRun.id == parent))
        return ids

    def answered_count(self, run_id: int) -> int:
        """Placements of the run somebody answered: live, declined, or accepted and since withdrawn
        (those carry a reason; offers withdrawn with their run do not)."""
        answered = or_(Placement.status.in_((*LIVE_PLACEMENT_STATUSES, PlacementStatus.DECLINED.value)),
                       and_(Placement.status == PlacementStatus.WITHDRAWN, Placement.withdrawn_reason.is_not(None)))
        return int(self.session.scalar(select(func.count()).select_from(Placement).where(
            Placement.run_id == run_id, answered)) or 0)

    def count_with_status(self, run_ids: Sequence[int], statuses: Collection[str]) -> int:
        if not run_ids:
            return 0
        return int(self.session.scalar(select(func.count()).select_from(Placement).where(
            Placement.run_id.in_(list(run_ids)), Placement.status.in_(list(statuses)))) or 0)

    def add_stale_reason(self, run_ids: Iterable[int], reason: str) -> None:
        for run in self.session.scalars(select(AllocationRun).where(AllocationRun.id.in_(sorted(set(run_ids))))):
            run.stale_reasons = [*run.stale_reasons, reason]

    # -- placements

    def move_placement(self, placement_id: int, sources: Collection[PlacementStatus], target: PlacementStatus,
                       values: dict[str, Any]) -> bool:
        result = self.session.execute(
            update(Placement)
            .where(Placement.id == placement_id, Placement.status.in_(list(sources)))
            .values(status=target, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False))
        return _rowcount(result) == 1

    def move_placements_of_run(self, run_id: int, source: PlacementStatus, target: PlacementStatus) -> int:
        result = self.session.execute(
            update(Placement)
            .where(Placement.run_id == run_id, Placement.status == source)
            .values(status=target, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        return _rowcount(result)

    def refresh(self, row: object) -> None:
        self.session.refresh(row)

    def placement(self, placement_id: int) -> Placement | None:
        return self.session.scalars(select(Placement).where(Placement.id == placement_id)
                                    .execution_options(populate_existing=True)).one_or_none()

    def chain_placements(self, run_ids: Sequence[int]) -> list[Placement]:
        if not run_ids:
            return []
        return list(self.session.scalars(select(Placement).where(Placement.run_id.in_(list(run_ids)))
                                          .order_by(Placement.id)))

    def references(self, column: Any, row_id: int) -> list[Any]:
        """(status, run id, run published?) of every placement that names this row."""
        stmt = (select(Placement.status, Placement.run_id, AllocationRun.status)
                .outerjoin(AllocationRun, AllocationRun.id == Placement.run_id).where(column == row_id))
        return list(self.session.execute(stmt))

    def drop_unpublished_proposals(self, column: Any, row_id: int) -> list[int]:
        """Delete the proposals of unpublished runs naming this row; the runs' ids."""
        rows = list(self.session.scalars(select(Placement).where(
            column == row_id, Placement.status == PlacementStatus.PROPOSED)))
        for row in rows:
            self.session.delete(row)
        self.session.flush()
        return sorted({r.run_id for r in rows if r.run_id is not None})

    # -- seats and hours

    def take_seat(self, opening_id: int) -> bool:
        result = self.session.execute(
            update(Opening).where(Opening.id == opening_id, Opening.filled_seats < Opening.seats)
            .values(filled_seats=Opening.filled_seats + 1).execution_options(synchronize_session=False))
        return _rowcount(result) == 1

    def release_seat(self, opening_id: int) -> None:
        self.session.execute(
            update(Opening).where(Opening.id == opening_id, Opening.filled_seats > 0)
            .values(filled_seats=Opening.filled_seats - 1).execution_options(synchronize_session=False))

    def recount_seats(self, opening_ids: Iterable[int]) -> None:
        """Set each opening's filled seats from its live placements (after a bulk insert of history)."""
        wanted = sorted(set(opening_ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            live = (select(func.count()).select_from(Placement)
                    .where(Placement.opening_id == Opening.id, Placement.kind == RunKind.INTERNSHIP,
                           Placement.status.in_(LIVE_PLACEMENT_STATUSES)).scalar_subquery())
            self.session.execute(update(Opening).where(Opening.id.in_(chunk)).values(filled_seats=live)
                                 .execution_options(synchronize_session=False))

    def opening_seats(self, opening_id: int) -> tuple[int, int]:
        row = self.session.execute(select(Opening.seats, Opening.filled_seats).where(Opening.id == opening_id)).one()
        return int(row[0]), int(row[1])

    def lock_opening(self, opening_id: int) -> Opening | None:
        """The opening with its committed seats and filled seats, its row locked (PostgreSQL) so an
        accept waits for a seat change, or the change sees the accept."""
        stmt = select(Opening).where(Opening.id == opening_id)
        if self._postgres:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()

    def lock_lecturer(self, lecturer_id: int) -> Lecturer | None:
        stmt = select(Lecturer).where(Lecturer.id == lecturer_id)
        if self._postgres:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()

    def live_hours(self, lecturer_id: int) -> dict[str, int]:
        """Weekly hours of the lecturer's live placements, per term."""
        stmt = (select(Placement.term, func.sum(CourseNeed.weekly_hours))
                .join(CourseNeed, CourseNeed.id == Placement.course_need_id)
                .where(Placement.lecturer_id == lecturer_id, Placement.status.in_(LIVE_PLACEMENT_STATUSES))
                .group_by(Placement.term))
        return {str(term): int(hours or 0) for term, hours in self.session.execute(stmt)}

    def course_need_hours(self, course_need_id: int) -> int:
        return int(self.session.scalar(select(CourseNeed.weekly_hours).where(CourseNeed.id == course_need_id)) or 0)

    # -- what a publication is checked against

    def proposals(self, run_id: int) -> list[Any]:
        stmt = select(Placement.id, Placement.student_id, Placement.opening_id, Placement.lecturer_id,
                      Placement.course_need_id).where(Placement.run_id == run_id,
                                                      Placement.status == PlacementStatus.PROPOSED)
        return list(self.session.execute(stmt))

    def current_elsewhere(self, run_id: int, term: str, student_ids: Sequence[int], superseding: int | None
                          ) -> list[Any]:
        """(student, placement, run, status) of current placements of these students outside this
        run, except the unanswered ones of the round this publication supersedes."""
        out: list[Any] = []
        for start in range(0, len(student_ids), 1000):
            chunk = list(student_ids[start:start + 1000])
            stmt = (select(Placement.student_id, Placement.id, Placement.run_id, Placement.status)
                    .where(Placement.kind == RunKind.INTERNSHIP, Placement.term == term,
                           Placement.student_id.in_(chunk), Placement.status.in_(CURRENT_PLACEMENT_STATUSES),
                           or_(Placement.run_id.is_(None), Placement.run_id != run_id)))
            if superseding is not None:
                stmt = stmt.where(or_(Placement.run_id.is_(None), Placement.run_id != superseding,
                                      Placement.status != PlacementStatus.PUBLISHED))
            out += list(self.session.execute(stmt))
        return out

    def declined_pairs(self, run_ids: Sequence[int]) -> set[tuple[int, int]]:
        if not run_ids:
            return set()
        stmt = select(Placement.student_id, Placement.opening_id).where(
            Placement.run_id.in_(list(run_ids)), Placement.kind == RunKind.INTERNSHIP,
            Placement.status.in_((PlacementStatus.DECLINED, PlacementStatus.WITHDRAWN)))
        return {(int(s), int(o)) for s, o in self.session.execute(stmt) if s is not None and o is not None}

    def live_ids(self, run_ids: Sequence[int]) -> set[int]:
        if not run_ids:
            return set()
        return set(self.session.scalars(select(Placement.id).where(
            Placement.run_id.in_(list(run_ids)), Placement.status.in_(LIVE_PLACEMENT_STATUSES))))

    def openings_now(self, opening_ids: Iterable[int]) -> list[Any]:
        wanted = sorted(set(opening_ids))
        out: list[Any] = []
        for start in range(0, len(wanted), 1000):
            stmt = (select(Opening.id, Opening.title, Opening.term, Opening.province, Opening.enterprise_id,
                           Opening.seats, Opening.filled_seats, Opening.post_headcount, Opening.eligible_major_codes,
                           Enterprise.name, Enterprise.staff_count)
                    .join(Enterprise, Enterprise.id == Opening.enterprise_id)
                    .where(Opening.id.in_(wanted[start:start + 1000])))
            out += list(self.session.execute(stmt))
        return out

    def enterprise_live_counts(self, enterprise_ids: Iterable[int], term: str) -> dict[int, int]:
        wanted = sorted(set(enterprise_ids))
        if not wanted:
            return {}
        stmt = (select(Opening.enterprise_id, func.count()).select_from(Placement)
                .join(Opening, Opening.id == Placement.opening_id)
                .where(Opening.enterprise_id.in_(wanted), Placement.term == term,
                       Placement.status.in_(LIVE_PLACEMENT_STATUSES))
                .group_by(Opening.enterprise_id))
        return {int(e): int(n) for e, n in self.session.execute(stmt)}

    def students_now(self, student_ids: Iterable[int], *, share_lock: bool = False) -> list[Any]:
        """(student, student number, program, college, college province, 专业大类 code); with
        ``share_lock`` the students' rows are locked FOR SHARE until the transaction ends
        (PostgreSQL), so that no program change (``lock_student``) slips between check and commit."""
        from app.db.models import College, Major

        wanted = sorted(set(student_ids))
        out: list[Any] = []
        for start in range(0, len(wanted), 1000):
            stmt = (select(Student.id, Student.student_no, Program.id, College.id, College.province,
                           Major.category_code)
                    .join(Program, Program.id == Student.program_id)
                    .join(College, College.id == Program.college_id)
                    .join(Major, Major.id == Program.major_id)
                    .where(Student.id.in_(wanted[start:start + 1000])))
            if share_lock and self._postgres:
                stmt = stmt.with_for_update(read=True, of=Student)
            out += list(self.session.execute(stmt))
        return out

    def lock_student(self, student_id: int) -> None:
        """The student's row locked FOR UPDATE until the transaction ends (PostgreSQL): waits for a
        publication checking the student (``students_now(share_lock=True)``) to end."""
        if self._postgres:
            self.session.execute(select(Student.id).where(Student.id == student_id).with_for_update())

    def lecturers_now(self, lecturer_ids: Iterable[int]) -> list[Any]:
        wanted = sorted(set(lecturer_ids))
        if not wanted:
            return []
        stmt = (select(Lecturer.id, Lecturer.name, Lecturer.max_weekly_hours, Lecturer.enterprise_id,
                       Enterprise.province)
                .join(Enterprise, Enterprise.id == Lecturer.enterprise_id).where(Lecturer.id.in_(wanted)))
        return list(self.session.execute(stmt))

    def needs_now(self, need_ids: Iterable[int]) -> list[Any]:
        from app.db.models import College

        wanted = sorted(set(need_ids))
        if not wanted:
            return []
        stmt = (select(CourseNeed.id, CourseNeed.course_name, CourseNeed.term, CourseNeed.weekly_hours,
                       College.id, College.province)
                .join(Program, Program.id == CourseNeed.program_id)
                .join(College, College.id == Program.college_id).where(CourseNeed.id.in_(wanted)))
        return list(self.session.execute(stmt))

    def live_course_needs(self, need_ids: Sequence[int]) -> set[int]:
        out: set[int] = set()
        for start in range(0, len(need_ids), 1000):
            out |= set(self.session.scalars(select(Placement.course_need_id).where(
                Placement.course_need_id.in_(list(need_ids[start:start + 1000])),
                Placement.status.in_(LIVE_PLACEMENT_STATUSES))))
        return {int(n) for n in out if n is not None}

    def live_hours_of(self, lecturer_ids: Iterable[int], term: str) -> dict[int, int]:
        wanted = sorted(set(lecturer_ids))
        if not wanted:
            return {}
        stmt = (select(Placement.lecturer_id, func.sum(CourseNeed.weekly_hours))
                .join(CourseNeed, CourseNeed.id == Placement.course_need_id)
                .where(Placement.lecturer_id.in_(wanted), Placement.term == term,
                       Placement.status.in_(LIVE_PLACEMENT_STATUSES))
                .group_by(Placement.lecturer_id))
        return {int(lec): int(h or 0) for lec, h in self.session.execute(stmt) if lec is not None}


def live_in_chain(run_ids: Sequence[int]) -> Any:
    """Rows of a run's listing: its own, and the live placements it carried from earlier rounds."""
    own, earlier = run_ids[0], list(run_ids[1:])
    if not earlier:
        return Placement.run_id == own
    return or_(Placement.run_id == own,
               and_(Placement.run_id.in_(earlier), Placement.status.in_(LIVE_PLACEMENT_STATUSES)))
