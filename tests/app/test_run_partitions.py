"""A run's candidates are scored province by province on the executor, with one text space for the
whole run; the result is the one of scoring every student at once, on every executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_session_factory
from app.db.models import AllocationRun
from app.repositories.runs import RunRepository
from app.run_schemas import RunCreate, RunParameters
from app.security import SYSTEM
from app.services import allocation_job as job
from app.services.runs import RunService
from app.settings import Settings
from app.worker import Worker
from benchmarks.runs.scale import TERM, generate
from matching.allocation import InlineExecutor, solve_internships
from matching.scoring import top_k_openings_per_student
from tests.conftest import migrate


@pytest.fixture(scope="module")
def scope_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A generated scope in ten provinces (the bench-runs generator, seeded)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('partitions') / 'scope.db'}"
    migrate(url)
    generate(url, 1500, 300, seed=11)
    return url


def _submit(sessions: sessionmaker[Session], **parameters: Any) -> int:
    with sessions.begin() as session:
        run, _ = RunService(session, SYSTEM).submit(RunCreate.model_validate(
            {"kind": "internship", "scope": {"term": TERM}, "parameters": {"time_limit_s": 60, **parameters}}))
        return run.id


def _unpartitioned_digest(sessions: sessionmaker[Session], run_id: int) -> tuple[str, str]:
    """The run as it was computed before runs were partitioned: one candidate call over all."""
    with sessions.begin() as session:
        run = session.get(AllocationRun, run_id)
        assert run is not None
        inputs = job.load_internship_inputs(session, run, staff_share=0.1, post_share=0.2)
        params = RunParameters.model_validate(run.parameters)
        mode = run.mode
    ctx = inputs.context
    found = top_k_openings_per_student(inputs.students, inputs.openings, inputs.programs, k=params.top_k,
                                       model=ctx.model, history=ctx.history, cooperation=ctx.cooperation)
    built = job.build_internship_instance(
        inputs.students, inputs.openings, inputs.programs, inputs.enterprise_caps,
        (found.student_index, found.opening_index, found.score), stable=False)
    solver_params = job.internship_params(mode, params, built.locks)
    result = solve_internships(built.problem, solver_params, InlineExecutor())
    unscorable = [{"id": u.id, "reasons": ["no_candidates"], "detail": u.reason} for u in found.unscorable_students]
    solved = job.internship_outcome(built.problem, solver_params, result, unscorable, inputs,
                                    job.ScopeFacts.of(inputs), job.input_digest(built.problem, solver_params))
    return solved.input_digest, job.placements_digest(solved.kind, solved.placements)


@pytest.mark.slow
def test_partitioned_runs_equal_the_unpartitioned_run_on_every_executor(scope_db: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = make_session_factory(make_engine(scope_db))
    reported: list[tuple[str, int]] = []
    real_set_phase = RunRepository.set_phase

    def record(self: RunRepository, run_id: int, owner: str, phase: str, progress: int,
               phase_times: dict[str, float] | None = None) -> bool:
        reported.append((phase, progress))
        return real_set_phase(self, run_id, owner, phase, progress, phase_times)

    monkeypatch.setattr(RunRepository, "set_phase", record)
    digests = []
    for executor in ("inline", "process"):
        run_id = _submit(sessions)
        reported.clear()
        Worker(sessions, Settings(database_url=scope_db, solve_in_subprocess=False,
                                  allocation_executor=executor), owner=executor).run_once()
        with sessions.begin() as session:
            run = session.get(AllocationRun, run_id)
            assert run is not None and run.status.value == "succeeded", run and run.error
            digests.append((run.input_digest, run.placements_digest))
        candidates = [p for phase, p in reported if phase == "candidates"]
        # Entering the phase, then once per province as it is done (ten provinces), on every executor.
        assert candidates[0] == job.PHASE_START["candidates"] and candidates[-1] == job.PHASE_START["solve"]
        assert len(candidates) == 1 + 10
        assert candidates == sorted(candidates)
    assert digests[0] == digests[1] == _unpartitioned_digest(sessions, run_id)


def test_the_text_space_is_fitted_once_per_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    from matching.scoring import TextSpace

    fits: list[int] = []
    real_fit = TextSpace.fit.__func__  # type: ignore[attr-defined]

    def counting_fit(cls: type[TextSpace], corpus: Any, *args: Any) -> TextSpace:
        fits.append(len(list(corpus)))
        return real_fit(cls, corpus, *args)  # type: ignore[no-any-return]

    monkeypatch.setattr(TextSpace, "fit", classmethod(counting_fit))
    corpus = ["云计算运维 Linux", "数控车床 CNC", f"护理 nursing {Path.cwd().name}"]
    first = job.text_space_of(corpus)
    assert job.text_space_of(list(reversed(corpus))) is first  # the same multiset of texts
    assert job.text_space_of([*corpus, corpus[0]]) is not first  # a repeat changes the weights
    assert fits == [3, 4]
