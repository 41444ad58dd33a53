"""Partnerships' invariants under random sequences of what the parties do, on SQLite and PostgreSQL
(hypothesis ``RuleBasedStateMachine`` over the services and a real worker).

After every step: each partnership's status is the one the allowed transitions lead to from what
was attempted (a refused move changes nothing); nothing is deleted; every successful move is one
audit event.  After every solve: no student outside an order class's programs holds a seat it
reserved (in the first round, and in every round unless the partnership releases unused seats).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import (
    AuditEvent,
    College,
    EducationLevel,
    Enterprise,
    Major,
    Opening,
    Partnership,
    PartnershipStatus,
    Placement,
    Program,
    Role,
    RunKind,
    Student,
)
from app.errors import ChanjiaoError
from app.partnership_schemas import PartnershipCreate
from app.run_schemas import RunCreate
from app.security import SYSTEM, Principal
from app.services.partnerships import PARTNERSHIP_TRANSITIONS, PartnershipService
from app.services.runs import RunService
from app.settings import Settings
from app.worker import Worker

TERM = "2027-autumn"
PROVINCE = "测试省"
S = PartnershipStatus


def make_machine(connection: Connection, factory: sessionmaker[Session]) -> type[RuleBasedStateMachine]:
    worker_settings = Settings(database_url="sqlite://", solve_in_subprocess=False, allocation_executor="inline",
                               worker_heartbeat_s=3600)

    class Partnerships(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = connection.begin_nested()
            self.worker = Worker(factory, worker_settings, owner="stateful-partnerships")
            self.expected: dict[int, PartnershipStatus] = {}
            self.proposer: dict[int, str] = {}
            self.moves = 0
            with factory.begin() as session:
                major = session.scalars(select(Major).where(Major.code == "510205")).first()
                assert major is not None
                other = session.scalars(select(Major).where(Major.code == "510102")).first()
                assert other is not None
                college = College(name="状态机合作学院", province=PROVINCE, city="甲市",
                                  level=EducationLevel.HIGHER_VOCATIONAL)
                enterprise = Enterprise(name="状态机合作企业", industry="软件和信息技术服务业", province=PROVINCE,
                                        city="甲市", staff_count=500)
                session.add_all([college, enterprise])
                session.flush()
                programs = [Program(college_id=college.id, major_id=m.id, name=m.name, term=TERM,
                                    description="大数据 物联网", skills=["Python", "SQL"]) for m in (major, other)]
                session.add_all(programs)
                session.flush()
                openings = [Opening(enterprise_id=enterprise.id, title=f"数据实习生{i}", seats=2 - i, province=PROVINCE,
                                    city="甲市", term=TERM, description="数据清洗与分析", required_skills=["SQL"])
                            for i in range(2)]
                students = [Student(program_id=programs[i % 2].id, student_no=f"PS{i}", name=f"学生{i}",
                                    skills=["Python", "SQL"], grade=60 + 5 * i, province=PROVINCE, city="甲市")
                            for i in range(6)]
                session.add_all([*openings, *students])
                session.flush()
                self.college, self.enterprise = college.id, enterprise.id
                self.programs = [p.id for p in programs]
                self.openings = [o.id for o in openings]
                self.seats = sum(o.seats for o in openings)
                self.partner_students = {s.id: s.program_id for s in students}
            self.office = Principal(actor_id=None, role=Role.PLACEMENT_OFFICE, college_id=self.college)
            self.hr = Principal(actor_id=None, role=Role.ENTERPRISE_HR, enterprise_id=self.enterprise)

        def teardown(self) -> None:
            self.savepoint.rollback()

        def _party(self, who: str) -> Principal:
            return self.office if who == "college" else self.hr

        @initialize(seats=st.integers(1, 2), release=st.booleans())
        def an_order_class_in_force(self, seats: int, release: bool) -> None:
            # For the less fitting program, so that its reservation binds in every solve.
            self.propose("enterprise", seats, release, 1)
            pid = max(self.expected)
            self.move(st.data(), "college", "agree", pid)  # type: ignore[arg-type]

        @rule(who=st.sampled_from(["college", "enterprise"]), seats=st.integers(1, 3), release=st.booleans(),
              program=st.integers(0, 1))
        def propose(self, who: str, seats: int, release: bool, program: int) -> None:
            body = PartnershipCreate.model_validate({
                "name": "订单班", "college_id": self.college, "enterprise_id": self.enterprise,
                "program_ids": [self.programs[program]], "forms": ["order_class"], "release_unused": release,
                "terms": [{"term": TERM, "reserved_seats": seats}]})
            with factory.begin() as session:
                row = PartnershipService(session, self._party(who)).propose(body)
                self.expected[row.id] = S.PROPOSED
                self.proposer[row.id] = who
                self.moves += 1

        @rule(data=st.data())
        def the_other_party_agrees(self, data: st.DataObject) -> None:
            proposed = sorted(pid for pid, status in self.expected.items() if status is S.PROPOSED)
            if proposed:
                pid = data.draw(st.sampled_from(proposed))
                self.move(data, "enterprise" if self.proposer[pid] == "college" else "college", "agree", pid)

        @rule(data=st.data(), who=st.sampled_from(["college", "enterprise", "admin"]),
              action=st.sampled_from(["agree", "activate", "end"]))
        def move(self, data: st.DataObject, who: str, action: str, pid: int | None = None) -> None:
            if not self.expected:
                return
            pid = pid if pid is not None else data.draw(st.sampled_from(sorted(self.expected)))
            principal = SYSTEM if who == "admin" else self._party(who)
            target = {"agree": S.AGREED, "activate": S.ACTIVE, "end": S.ENDED}[action]
            allowed = target in PARTNERSHIP_TRANSITIONS.get(self.expected[pid], frozenset())
            if action == "agree" and who == self.proposer[pid]:
                allowed = False  # the proposer never agrees to its own proposal
            try:
                with factory.begin() as session:
                    getattr(PartnershipService(session, principal), action)(pid)
            except ChanjiaoError:
                assert not allowed, f"{who} could not {action} partnership {pid} in {self.expected[pid]}"
                return
            assert allowed, f"{who} moved partnership {pid} from {self.expected[pid]} to {target}"
            self.expected[pid] = target
            self.moves += 1

        @rule(seed=st.integers(0, 2))
        def solve(self, seed: int) -> None:
            with factory.begin() as session:
                run, _ = RunService(session, SYSTEM).submit(RunCreate.model_validate(
                    {"kind": RunKind.INTERNSHIP.value, "scope": {"term": TERM, "college_ids": [self.college]},
                     "parameters": {"seed": seed}}))
                run_id = run.id
                held = {pid: (p.programs[0].program_id, p.terms[0].reserved_seats)
                        for pid in self.expected if self.expected[pid] in (S.AGREED, S.ACTIVE)
                        for p in [session.get(Partnership, pid)] if p is not None}
            assert self.worker.run_once() == run_id
            with factory.begin() as session:
                placed = session.execute(select(Placement.student_id).where(Placement.run_id == run_id)).scalars().all()
            programs = [self.partner_students[s] for s in placed]
            # The reservations of one program add up; others' students fit the seats left (first round).
            reserved: dict[int, int] = {}
            for program, seats in held.values():
                reserved[program] = reserved.get(program, 0) + seats
            reserved_total = min(sum(reserved.values()), self.seats)
            beyond = sum(max(0, programs.count(p) - n) for p, n in reserved.items())
            others = sum(1 for p in programs if p not in reserved)
            assert others + beyond <= self.seats - reserved_total, (held, programs)

        @invariant()
        def statuses_follow_the_transitions_and_nothing_is_deleted(self) -> None:
            with factory.begin() as session:
                rows = dict(session.execute(select(Partnership.id, Partnership.status)).all())
                events = session.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.entity == "partnership")) or 0
            assert rows == self.expected
            assert events == self.moves

    return Partnerships


@pytest.mark.slow
def test_partnerships_keep_their_invariants(connection: Connection, session_factory: sessionmaker[Session],
                                            seed_catalog: None) -> None:
    machine = make_machine(connection, session_factory)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=20, stateful_step_count=10, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))


__all__: list[Any] = []
