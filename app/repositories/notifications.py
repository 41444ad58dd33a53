"""Notifications: who is told of a ledger move, what they were told, and what they have read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.models import (
    Actor,
    CourseNeed,
    Lecturer,
    Notification,
    Opening,
    Placement,
    Program,
    Role,
    Student,
    User,
)


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ recipients

    def colleges_of_run(self, run_id: int) -> dict[int, int]:
        """College id -> number of the run's placements with its students or its course needs."""
        counts: dict[int, int] = {}
        for holder in (Student, CourseNeed):
            stmt = (select(Program.college_id, func.count(Placement.id))
                    .join(holder, holder.id == (Placement.student_id if holder is Student
                                                else Placement.course_need_id))
                    .join(Program, Program.id == holder.program_id)
                    .where(Placement.run_id == run_id).group_by(Program.college_id))
            for college_id, n in self.session.execute(stmt):
                counts[int(college_id)] = counts.get(int(college_id), 0) + int(n)
        return counts

    def enterprises_of_run(self, run_id: int) -> dict[int, int]:
        """Enterprise id -> number of the run's placements at its openings or of its lecturers."""
        counts: dict[int, int] = {}
        for offer in (Opening, Lecturer):
            stmt = (select(offer.enterprise_id, func.count(Placement.id))
                    .join(offer, offer.id == (Placement.opening_id if offer is Opening else Placement.lecturer_id))
                    .where(Placement.run_id == run_id).group_by(offer.enterprise_id))
            for enterprise_id, n in self.session.execute(stmt):
                counts[int(enterprise_id)] = counts.get(int(enterprise_id), 0) + int(n)
        return counts

    def placement_facts(self, placement_id: int) -> dict[str, Any] | None:
        """What an enterprise is told of an answer: the offer and whose answer it was, by the
        numbers and titles it already sees (never a student's name)."""
        placement = self.session.get(Placement, placement_id)
        if placement is None:
            return None
        facts: dict[str, Any] = {"placement_id": placement.id, "run_id": placement.run_id, "term": placement.term,
                                 "kind": placement.kind.value}
        if placement.opening_id is not None:
            row = self.session.execute(
                select(Opening.enterprise_id, Opening.title, Student.student_no)
                .join(Student, Student.id == placement.student_id)
                .where(Opening.id == placement.opening_id)).one()
            facts.update(enterprise_id=int(row[0]), opening=row[1], student_no=row[2])
        else:
            row = self.session.execute(
                select(Lecturer.enterprise_id, Lecturer.name, CourseNeed.course_name)
                .join(CourseNeed, CourseNeed.id == placement.course_need_id)
                .where(Lecturer.id == placement.lecturer_id)).one()
            facts.update(enterprise_id=int(row[0]), lecturer=row[1], course=row[2])
        return facts

    def tenant_actors(self, *, colleges: Iterable[int] = (), enterprises: Iterable[int] = ()) -> list[Actor]:
        college_ids, enterprise_ids = sorted(set(colleges)), sorted(set(enterprises))
        found: list[Actor] = []
        if college_ids:
            found += self.session.scalars(select(Actor).where(
                Actor.role == Role.PLACEMENT_OFFICE, Actor.college_id.in_(college_ids)).order_by(Actor.id))
        if enterprise_ids:
            found += self.session.scalars(select(Actor).where(
                Actor.role == Role.ENTERPRISE_HR, Actor.enterprise_id.in_(enterprise_ids)).order_by(Actor.id))
        return found

    def addresses(self, actor_ids: Sequence[int]) -> dict[int, list[str]]:
        """Actor id -> e-mail addresses of its active users."""
        if not actor_ids:
            return {}
        stmt = (select(User.actor_id, User.email)
                .where(User.actor_id.in_(actor_ids), User.is_active.is_(True), User.email.is_not(None))
                .order_by(User.id))
        out: dict[int, list[str]] = {}
        for actor_id, email in self.session.execute(stmt):
            out.setdefault(int(actor_id), []).append(str(email))
        return out

    def user_by_username(self, username: str) -> User | None:
        return self.session.scalars(select(User).where(User.username == username)).one_or_none()

    # ------------------------------------------------------------------ the recipient's side

    def add_all(self, rows: list[Notification]) -> list[Notification]:
        self.session.add_all(rows)
        self.session.flush()
        return rows

    def of_actor(self, actor_id: int, *, limit: int, before_id: int | None = None) -> list[Notification]:
        stmt = select(Notification).where(Notification.recipient_actor_id == actor_id)
        if before_id is not None:
            stmt = stmt.where(Notification.id < before_id)
        return list(self.session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))

    def unread_count(self, actor_id: int) -> int:
        stmt = select(func.count(Notification.id)).where(Notification.recipient_actor_id == actor_id,
                                                         Notification.read_at.is_(None))
        return int(self.session.scalar(stmt) or 0)

    def exists_for(self, notification_id: int, actor_id: int) -> bool:
        stmt = select(Notification.id).where(Notification.id == notification_id,
                                             Notification.recipient_actor_id == actor_id)
        return self.session.scalar(stmt) is not None

    def mark_read(self, actor_id: int, at: datetime, notification_id: int | None = None) -> int:
        """Marks the actor's unread notifications (one, or all) read; the count marked."""
        stmt = (update(Notification)
                .where(Notification.recipient_actor_id == actor_id, Notification.read_at.is_(None))
                .values(read_at=at))
        if notification_id is not None:
            stmt = stmt.where(Notification.id == notification_id)
        return int(self.session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0)  # type: ignore[attr-defined]
