"""The ledger's invariants under random sequences of everything people do in a term, on SQLite and
PostgreSQL (hypothesis ``RuleBasedStateMachine`` over the services and a real worker).

After every step: no student holds two current placements in a term; no opening holds more live
placements than seats (and its seat counter equals them); no lecturer teaches more live hours than
available in a term; no course need has two current lecturers; a scope has at most one published
run, every offer belongs to it and every live placement to its chain of rounds; nothing that
happened is deleted, and every status only moved along an allowed transition.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import (
    CURRENT_PLACEMENT_STATUSES,
    LIVE_PLACEMENT_STATUSES,
    AllocationRun,
    College,
    CourseNeed,
    EducationLevel,
    Enterprise,
    Lecturer,
    Major,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    RunKind,
    RunStatus,
    Student,
)
from app.errors import ChanjiaoError
from app.run_schemas import RunCreate, RunFork
from app.schemas import LecturerUpdate, OpeningUpdate
from app.security import SYSTEM
from app.services.ledger import PLACEMENT_TRANSITIONS
from app.services.resources import LecturerService, OpeningService, StudentService, etag_of
from app.services.runs import RunService
from app.settings import Settings
from app.worker import Worker

TERM = "2027-autumn"
PROVINCE = "测试省"


def _reachable(start: PlacementStatus) -> set[PlacementStatus]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in PLACEMENT_TRANSITIONS.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def make_machine(connection: Connection, factory: sessionmaker[Session]) -> type[RuleBasedStateMachine]:
    worker_settings = Settings(database_url="sqlite://", solve_in_subprocess=False, allocation_executor="inline",
                               worker_heartbeat_s=3600)

    class Term(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = connection.begin_nested()
            self.worker = Worker(factory, worker_settings, owner="stateful")
            self.seen: dict[int, PlacementStatus] = {}
            self.runs: list[int] = []
            with factory.begin() as session:
                major = session.scalars(select(Major).where(Major.code == "510205")).first()
                assert major is not None
                college = College(name="状态机职业学院", province=PROVINCE, city="甲市",
                                  level=EducationLevel.HIGHER_VOCATIONAL)
                enterprise = Enterprise(name="状态机科技有限公司", industry="软件和信息技术服务业", province=PROVINCE,
                                        city="甲市", staff_count=200)
                session.add_all([college, enterprise])
                session.flush()
                program = Program(college_id=college.id, major_id=major.id, name="大数据技术", term=TERM,
                                  description="大数据采集 清洗 分析", skills=["Python", "SQL"])
                session.add(program)
                session.flush()
                openings = [Opening(enterprise_id=enterprise.id, title=f"数据实习生{i}", seats=1 + i % 2,
                                    province=PROVINCE, city="甲市", term=TERM, description="数据清洗与分析",
                                    required_skills=["SQL"]) for i in range(3)]
                students = [Student(program_id=program.id, student_no=f"ST{i}", name=f"学生{i}",
                                    skills=["Python", "SQL"][: 1 + i % 2], grade=60 + 7 * i, province=PROVINCE,
                                    city="甲市") for i in range(5)]
                lecturer = Lecturer(enterprise_id=enterprise.id, name="钱工", expertise="数据分析 Python",
                                    topics=["Python"], max_weekly_hours=4, available_slots=["mon1", "tue1", "wed1"],
                                    cities=["甲市"])
                needs = [CourseNeed(program_id=program.id, course_name=f"Python 数据分析{i}", topics=["Python"],
                                    weekly_hours=2, slots=[("mon1", "tue1", "wed1")[i]], term=TERM)
                         for i in range(3)]
                session.add_all([*openings, *students, lecturer, *needs])
                session.flush()
                self.openings = [o.id for o in openings]
                self.students = [s.id for s in students]
                self.lecturer = lecturer.id

        def teardown(self) -> None:
            self.savepoint.rollback()

        def _do(self, action: Any) -> Any:
            try:
                with factory.begin() as session:
                    return action(session)
            except ChanjiaoError:
                return None  # a refusal (403/404/409/422) is fine; anything else fails the test

        def _placements(self, statuses: tuple[str, ...] | None = None) -> list[int]:
            with factory.begin() as session:
                stmt = select(Placement.id).where(Placement.term == TERM).order_by(Placement.id)
                if statuses:
                    stmt = stmt.where(Placement.status.in_(statuses))
                return list(session.scalars(stmt))

        # ------------------------------------------------------------------ rules

        @initialize(seed=st.integers(0, 3))
        def a_published_first_round(self, seed: int) -> None:
            self.submit_and_solve(RunKind.INTERNSHIP, False, seed)
            self.publish_latest()

        @rule(kind=st.sampled_from([RunKind.INTERNSHIP, RunKind.INTERNSHIP, RunKind.LECTURER]),
              follow=st.booleans(), seed=st.integers(0, 3))
        def submit_and_solve(self, kind: RunKind, follow: bool, seed: int) -> None:
            parent = None
            if follow:
                with factory.begin() as session:
                    parent = session.scalar(select(AllocationRun.id).where(
                        AllocationRun.kind == kind, AllocationRun.term == TERM,
                        AllocationRun.status == RunStatus.PUBLISHED))
            body = RunCreate.model_validate({"kind": kind.value, "scope": {"term": TERM, "province": PROVINCE},
                                             "parameters": {"seed": seed}, "supplementary_to": parent})
            run = self._do(lambda s: RunService(s, SYSTEM).submit(body)[0].id)
            if run is not None:
                self.runs.append(run)
                assert self.worker.run_once() == run

        @rule(i=st.integers(0, 20))
        def publish(self, i: int) -> None:
            if self.runs:
                self._do(lambda s: RunService(s, SYSTEM).publish(self.runs[i % len(self.runs)]))

        @rule(seed=st.integers(0, 3))
        def supplementary_round(self, seed: int) -> None:
            """The term's usual next step: a round after the current one, published."""
            self.submit_and_solve(RunKind.INTERNSHIP, True, seed)
            self.publish_latest()

        @rule()
        def publish_latest(self) -> None:
            if self.runs:
                self._do(lambda s: RunService(s, SYSTEM).publish(self.runs[-1]))

        @rule(i=st.integers(0, 20))
        def withdraw_run(self, i: int) -> None:
            if self.runs:
                self._do(lambda s: RunService(s, SYSTEM).withdraw(self.runs[i % len(self.runs)]))

        @rule(i=st.integers(0, 20), seed=st.integers(4, 6))
        def fork(self, i: int, seed: int) -> None:
            if self.runs:
                source = self.runs[i % len(self.runs)]
                run = self._do(lambda s: RunService(s, SYSTEM).fork(source, RunFork(parameters={"seed": seed})).id)
                if run is not None:
                    self.runs.append(run)
                    assert self.worker.run_once() == run

        @rule(i=st.integers(0, 50), answer=st.sampled_from(["accept", "accept", "decline", "agreement", "withdraw"]))
        def answer(self, i: int, answer: str) -> None:
            # Offers and live placements mostly: answering a mere proposal is refused, also tried.
            ids = self._placements(None if i % 5 == 0 else CURRENT_PLACEMENT_STATUSES)
            if not ids:
                return
            pid = ids[i % len(ids)]

            def act(session: Session) -> None:
                service = RunService(session, SYSTEM)
                if answer == "agreement":
                    service.record_agreement(pid)
                elif answer == "withdraw":
                    service.withdraw_placement(pid, "学生退出")
                else:
                    service.respond(pid, accept=answer == "accept")

            self._do(act)

        @rule(i=st.integers(0, 2), seats=st.integers(0, 3))
        def change_seats(self, i: int, seats: int) -> None:
            def act(session: Session) -> None:
                opening = session.get(Opening, self.openings[i])
                if opening is not None:
                    OpeningService(session, SYSTEM).update(opening.id, OpeningUpdate(seats=seats),
                                                           if_match=etag_of(opening.version))

            self._do(act)

        @rule(hours=st.integers(1, 6))
        def change_hours(self, hours: int) -> None:
            self._do(lambda s: LecturerService(s, SYSTEM).update(self.lecturer, LecturerUpdate(max_weekly_hours=hours)))

        @precondition(lambda self: len(self.runs) >= 3)
        @rule(i=st.integers(0, 4))
        def delete_student(self, i: int) -> None:
            self._do(lambda s: StudentService(s, SYSTEM).delete(self.students[i]))

        @precondition(lambda self: len(self.runs) >= 3)
        @rule(i=st.integers(0, 2))
        def delete_opening(self, i: int) -> None:
            self._do(lambda s: OpeningService(s, SYSTEM).delete(self.openings[i]))

        # ------------------------------------------------------------------ invariants

        @invariant()
        def one_current_placement_per_student_and_course_need(self) -> None:
            with factory.begin() as session:
                for column in (Placement.student_id, Placement.course_need_id):
                    doubled = session.execute(
                        select(column, func.count()).where(Placement.term == TERM, column.is_not(None),
                                                           Placement.status.in_(CURRENT_PLACEMENT_STATUSES))
                        .group_by(column).having(func.count() > 1)).all()
                    assert not doubled, f"two current placements: {doubled}"

        @invariant()
        def seats_and_hours_hold(self) -> None:
            with factory.begin() as session:
                for opening in session.scalars(select(Opening).where(Opening.term == TERM)):
                    live = session.scalar(select(func.count()).select_from(Placement).where(
                        Placement.opening_id == opening.id, Placement.status.in_(LIVE_PLACEMENT_STATUSES)))
                    assert live == opening.filled_seats <= opening.seats, (opening.id, live, opening.filled_seats,
                                                                           opening.seats)
                lecturer = session.get(Lecturer, self.lecturer)
                assert lecturer is not None
                hours = session.scalar(select(func.coalesce(func.sum(CourseNeed.weekly_hours), 0))
                                       .join(Placement, Placement.course_need_id == CourseNeed.id)
                                       .where(Placement.lecturer_id == lecturer.id, Placement.term == TERM,
                                              Placement.status.in_(LIVE_PLACEMENT_STATUSES)))
                assert int(hours or 0) <= lecturer.max_weekly_hours

        @invariant()
        def placements_belong_to_the_current_chain(self) -> None:
            with factory.begin() as session:
                runs = {r.id: r for r in session.scalars(select(AllocationRun).where(AllocationRun.term == TERM))}
                heads: dict[tuple[str, str], list[int]] = defaultdict(list)
                for r in runs.values():
                    if r.status == RunStatus.PUBLISHED:
                        heads[(r.kind.value, r.scope_key)].append(r.id)
                assert all(len(v) == 1 for v in heads.values()), heads
                chains: dict[int, set[int]] = {}
                for (_kind, _scope), (head,) in heads.items():
                    chain, cursor = set(), runs[head]
                    while cursor is not None:
                        chain.add(cursor.id)
                        cursor = runs.get(cursor.parent_run_id) if cursor.parent_run_id else None
                    chains[head] = chain
                in_chains = set().union(*chains.values()) if chains else set()
                for p in session.scalars(select(Placement).where(Placement.term == TERM,
                                                                 Placement.status.in_(CURRENT_PLACEMENT_STATUSES))):
                    if p.status == PlacementStatus.PUBLISHED:
                        assert runs[p.run_id].status == RunStatus.PUBLISHED, (p.id, runs[p.run_id].status)
                    else:
                        assert p.run_id in in_chains, (p.id, p.status, p.run_id)

        @invariant()
        def nothing_that_happened_is_deleted(self) -> None:
            with factory.begin() as session:
                now = {p.id: p.status for p in session.scalars(select(Placement).where(Placement.term == TERM))}
                for pid, before in self.seen.items():
                    assert pid in now, f"placement {pid} ({before.value}) was deleted"
                    assert now[pid] in _reachable(before), f"placement {pid}: {before.value} → {now[pid].value}"
                for pid, status in now.items():
                    if status != PlacementStatus.PROPOSED:
                        self.seen[pid] = status
                assert session.scalar(select(func.count()).select_from(Student).where(
                    Student.id.in_(self.students))) >= len({p.student_id for p in session.scalars(
                        select(Placement).where(Placement.term == TERM,
                                                Placement.status != PlacementStatus.PROPOSED,
                                                Placement.student_id.is_not(None)))})

    return Term


@pytest.mark.slow
def test_the_ledger_keeps_its_invariants(connection: Connection, session_factory: sessionmaker[Session],
                                         seed_catalog: None) -> None:
    machine = make_machine(connection, session_factory)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
