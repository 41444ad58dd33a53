"""Queries of partnerships and alliances, with their tenancy.

A partnership is read by its two parties (the college's placement office, the enterprise's HR), by
the scheduler of an alliance that counts both parties among its members, and by admins.  An alliance
is read by its members, its scheduler and admins.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import ColumnElement, exists, false, func, select, update
from sqlalchemy.orm import aliased, selectinload

from app.db.models import (
    Actor,
    Alliance,
    AllianceMember,
    College,
    CourseNeed,
    Enterprise,
    Lecturer,
    Opening,
    Partnership,
    PartnershipStatus,
    PartnershipTerm,
    Placement,
    Program,
    Role,
    Student,
)
from app.repositories.base import Repository, Tenancy
from app.security import Principal


def _partnerships_of_schedulers_alliances(principal: Principal) -> ColumnElement[bool]:
    if principal.role is not Role.SCHEDULER or principal.actor_id is None:
        return false()
    college_member, enterprise_member = aliased(AllianceMember), aliased(AllianceMember)
    return exists(
        select(Alliance.id)
        .join(college_member, college_member.alliance_id == Alliance.id)
        .join(enterprise_member, enterprise_member.alliance_id == Alliance.id)
        .where(Alliance.scheduler_actor_id == principal.actor_id,
               college_member.college_id == Partnership.college_id,
               enterprise_member.enterprise_id == Partnership.enterprise_id))


class PartnershipRepository(Repository[Partnership]):
    model = Partnership
    tenancy = Tenancy(by_college=lambda cid: Partnership.college_id == cid,
                      by_enterprise=lambda eid: Partnership.enterprise_id == eid,
                      private=True, shared_with=_partnerships_of_schedulers_alliances)

    def move(self, partnership_id: int, sources: Collection[PartnershipStatus], target: PartnershipStatus) -> bool:
        """Conditional UPDATE: of two concurrent moves of one partnership exactly one matches."""
        result = self.session.execute(
            update(Partnership).where(Partnership.id == partnership_id, Partnership.status.in_(list(sources)))
            .values(status=target, updated_at=func.now()).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def refresh(self, row: Partnership) -> None:
        self.session.refresh(row)

    def visible(self, principal: Principal, filters: Sequence[ColumnElement[bool]] = ()) -> list[Partnership]:
        stmt = (select(Partnership).where(self.tenancy.readable_by(principal), *filters)
                .options(selectinload(Partnership.programs), selectinload(Partnership.terms))
                .order_by(Partnership.id))
        return list(self.session.scalars(stmt))

    def program_rows(self, ids: Iterable[int]) -> list[Program]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        return list(self.session.scalars(select(Program).where(Program.id.in_(wanted))))

    def in_force(self, term: str, college_ids: Collection[int] | None,
                 enterprise_ids: Collection[int] | None) -> list[tuple[Partnership, PartnershipTerm]]:
        """Agreed or active partnerships with a commitment for ``term`` among these parties (None: any)."""
        stmt = (select(Partnership, PartnershipTerm)
                .join(PartnershipTerm, PartnershipTerm.partnership_id == Partnership.id)
                .where(PartnershipTerm.term == term,
                       Partnership.status.in_([PartnershipStatus.AGREED, PartnershipStatus.ACTIVE]))
                .options(selectinload(Partnership.programs)).order_by(Partnership.id))
        if college_ids is not None:
            stmt = stmt.where(Partnership.college_id.in_(list(college_ids)))
        if enterprise_ids is not None:
            stmt = stmt.where(Partnership.enterprise_id.in_(list(enterprise_ids)))
        return [(p, t) for p, t in self.session.execute(stmt).all()]

    @staticmethod
    def partner_program_ids(partnership: Partnership) -> list[int]:
        """The programs whose students the partnership serves (a program lasts across terms)."""
        return sorted(pp.program_id for pp in partnership.programs)

    def student_programs(self, student_ids: Iterable[int]) -> dict[int, int]:
        wanted = sorted(set(student_ids))
        if not wanted:
            return {}
        return dict(self.session.execute(select(Student.id, Student.program_id).where(Student.id.in_(wanted)))
                    .all())

    def live_programs_at(self, opening_ids: Iterable[int], term: str, live: Collection[str],
                         ) -> list[tuple[int, int]]:
        """(opening id, program id) of each live internship placement at these openings in ``term``."""
        wanted = sorted(set(opening_ids))
        if not wanted:
            return []
        stmt = (select(Placement.opening_id, Student.program_id).join(Student, Student.id == Placement.student_id)
                .where(Placement.opening_id.in_(wanted), Placement.term == term, Placement.status.in_(list(live))))
        return [(int(o or 0), int(p)) for o, p in self.session.execute(stmt).all()]

    def in_force_ids(self, ids: Iterable[int]) -> set[int]:
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        return set(self.session.scalars(select(Partnership.id).where(
            Partnership.id.in_(wanted), Partnership.status.in_([PartnershipStatus.AGREED, PartnershipStatus.ACTIVE]))))

    # ------------------------------------------------------------------ recommendation evidence

    def enterprises(self) -> list[Enterprise]:
        return list(self.session.scalars(select(Enterprise).order_by(Enterprise.id)))

    def programs_with_colleges(self) -> list[tuple[Program, College]]:
        stmt = (select(Program, College).join(College, College.id == Program.college_id)
                .options(selectinload(Program.major)).order_by(Program.id))
        return [(p, c) for p, c in self.session.execute(stmt).all()]

    def seats_by_enterprise(self, term: str | None) -> dict[int, int]:
        stmt = select(Opening.enterprise_id, func.sum(Opening.seats)).group_by(Opening.enterprise_id)
        if term is not None:
            stmt = stmt.where(Opening.term == term)
        return {int(e): int(n or 0) for e, n in self.session.execute(stmt).all()}

    def enterprise_openings(self, enterprise_id: int) -> list[int]:
        return list(self.session.scalars(select(Opening.id).where(Opening.enterprise_id == enterprise_id)
                                         .order_by(Opening.id)))

    def lecturer_topics(self, enterprise_id: int | None = None) -> dict[int, list[str]]:
        stmt = select(Lecturer.enterprise_id, Lecturer.topics)
        if enterprise_id is not None:
            stmt = stmt.where(Lecturer.enterprise_id == enterprise_id)
        out: dict[int, list[str]] = {}
        for e, topics in self.session.execute(stmt).all():
            out.setdefault(int(e), []).extend(topics or [])
        return out

    def course_topics(self, program_ids: Collection[int] | None = None) -> dict[int, list[str]]:
        stmt = select(CourseNeed.program_id, CourseNeed.topics)
        if program_ids is not None:
            stmt = stmt.where(CourseNeed.program_id.in_(list(program_ids)))
        out: dict[int, list[str]] = {}
        for p, topics in self.session.execute(stmt).all():
            out.setdefault(int(p), []).extend(topics or [])
        return out

    def outcomes(self, *, college_id: int | None = None, enterprise_id: int | None = None,
                 live: Collection[str] = ()) -> dict[tuple[int, int], tuple[int, int]]:
        """(college, enterprise) -> (accepted and standing, completed) internship placements."""
        stmt = (select(Program.college_id, Opening.enterprise_id, Placement.status, func.count())
                .join(Student, Student.id == Placement.student_id).join(Program, Program.id == Student.program_id)
                .join(Opening, Opening.id == Placement.opening_id)
                .where(Placement.status.in_(list(live)))
                .group_by(Program.college_id, Opening.enterprise_id, Placement.status))
        if college_id is not None:
            stmt = stmt.where(Program.college_id == college_id)
        if enterprise_id is not None:
            stmt = stmt.where(Opening.enterprise_id == enterprise_id)
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for c, e, status, n in self.session.execute(stmt).all():
            accepted, completed = out.get((int(c), int(e)), (0, 0))
            out[(int(c), int(e))] = (accepted + int(n), completed + (int(n) if status.value == "completed" else 0))
        return out

    # ------------------------------------------------------------------ report figures

    def placements_at(self, enterprise_id: int, program_ids: Collection[int], term: str | None,
                      ) -> list[tuple[str, int, str]]:
        """(term, program id, status) of internship placements of these programs' students at the
        enterprise's openings (every term when ``term`` is None)."""
        if not program_ids:
            return []
        stmt = (select(Placement.term, Student.program_id, Placement.status)
                .join(Student, Student.id == Placement.student_id)
                .join(Opening, Opening.id == Placement.opening_id)
                .where(Opening.enterprise_id == enterprise_id, Student.program_id.in_(list(program_ids))))
        if term is not None:
            stmt = stmt.where(Placement.term == term)
        return [(t, pid, s.value) for t, pid, s in self.session.execute(stmt).all()]

    def lecturer_hours(self, enterprise_id: int, program_ids: Collection[int], live: Collection[str],
                       ) -> list[tuple[str, int, int, bool]]:
        """(term, program id, weekly hours, from this enterprise) of live lecturer placements and of
        every professional course need of these programs."""
        if not program_ids:
            return []
        stmt = (select(CourseNeed.term, CourseNeed.program_id, CourseNeed.weekly_hours, Lecturer.enterprise_id)
                .join(Placement, Placement.course_need_id == CourseNeed.id)
                .join(Lecturer, Lecturer.id == Placement.lecturer_id)
                .where(CourseNeed.program_id.in_(list(program_ids)), CourseNeed.is_professional.is_(True),
                       Placement.status.in_(list(live))))
        return [(t, pid, h, eid == enterprise_id) for t, pid, h, eid in self.session.execute(stmt).all()]

    def professional_hours(self, program_ids: Collection[int]) -> list[tuple[str, int, int]]:
        if not program_ids:
            return []
        stmt = (select(CourseNeed.term, CourseNeed.program_id, func.sum(CourseNeed.weekly_hours))
                .where(CourseNeed.program_id.in_(list(program_ids)), CourseNeed.is_professional.is_(True))
                .group_by(CourseNeed.term, CourseNeed.program_id))
        return [(t, pid, int(h or 0)) for t, pid, h in self.session.execute(stmt).all()]

    def program_names(self, program_ids: Collection[int]) -> dict[int, str]:
        if not program_ids:
            return {}
        return dict(self.session.execute(select(Program.id, Program.name).where(Program.id.in_(list(program_ids))))
                    .all())


def _alliance_of_member(principal: Principal) -> ColumnElement[bool]:
    member = select(AllianceMember.alliance_id)
    if principal.role is Role.PLACEMENT_OFFICE and principal.college_id is not None:
        return Alliance.id.in_(member.where(AllianceMember.college_id == principal.college_id))
    if principal.role is Role.ENTERPRISE_HR and principal.enterprise_id is not None:
        return Alliance.id.in_(member.where(AllianceMember.enterprise_id == principal.enterprise_id))
    if principal.role is Role.SCHEDULER and principal.actor_id is not None:
        return Alliance.scheduler_actor_id == principal.actor_id
    return false()


class AllianceRepository(Repository[Alliance]):
    model = Alliance
    tenancy = Tenancy(private=True, shared_with=_alliance_of_member)

    def visible(self, principal: Principal) -> list[Alliance]:
        stmt = (select(Alliance).where(self.tenancy.readable_by(principal))
                .options(selectinload(Alliance.members)).order_by(Alliance.id))
        return list(self.session.scalars(stmt))

    def by_name(self, name: str) -> Alliance | None:
        return self.session.scalars(select(Alliance).where(Alliance.name == name)).one_or_none()

    def member_ids(self, alliance_id: int) -> tuple[list[int], list[int]]:
        rows = self.session.execute(select(AllianceMember.college_id, AllianceMember.enterprise_id)
                                    .where(AllianceMember.alliance_id == alliance_id)).all()
        return (sorted(c for c, _ in rows if c is not None), sorted(e for _, e in rows if e is not None))

    def partnerships_among(self, alliance_id: int) -> list[Partnership]:
        colleges, enterprises = self.member_ids(alliance_id)
        if not colleges or not enterprises:
            return []
        stmt = (select(Partnership).where(Partnership.college_id.in_(colleges),
                                          Partnership.enterprise_id.in_(enterprises))
                .options(selectinload(Partnership.programs), selectinload(Partnership.terms))
                .order_by(Partnership.id))
        return list(self.session.scalars(stmt))

    def names(self, college_ids: Iterable[int], enterprise_ids: Iterable[int]) -> tuple[dict[int, str], dict[int, str]]:
        cids, eids = sorted(set(college_ids)), sorted(set(enterprise_ids))
        colleges = dict(self.session.execute(select(College.id, College.name).where(College.id.in_(cids)))
                        .all()) if cids else {}
        enterprises = dict(self.session.execute(select(Enterprise.id, Enterprise.name)
                                                .where(Enterprise.id.in_(eids))).all()) if eids else {}
        return colleges, enterprises


    def is_scheduler(self, actor_id: int) -> bool:
        return bool(self.session.scalar(select(func.count()).select_from(Actor)
                                        .where(Actor.id == actor_id, Actor.role == Role.SCHEDULER)))
