"""Internship allocation: the one entry point, :func:`solve_internships`.

It splits the problem into independent parts, picks a method per part (min-cost flow when only
flow-expressible constraints are present, CP-SAT or Lagrangian flow when quotas are, deferred
acceptance in stable mode), merges the parts, attaches unplaced reasons and runs the independent
checker before returning.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import numpy as np

from matching.allocation.checker import CheckFailedError, check_internships
from matching.allocation.constraints import Prepared, floor_conflicts, pair_lookup, prepare
from matching.allocation.partition import Executor, InlineExecutor, PartIndices, part_indices, subproblem
from matching.allocation.preferences import StrictPreferences, strict_preferences
from matching.allocation.problem import (
    IntArray,
    InternshipParams,
    InternshipProblem,
    InternshipResult,
    Mode,
    ProblemError,
    Proposer,
    Status,
    Unplaced,
    UnplacedReason,
)
from matching.allocation.reasons import unplaced_reasons
from matching.allocation.reservations import expand, lock_conflicts, validate_reservations
from matching.allocation.solvers.flow import seats_only_optimum, solve_flow
from matching.allocation.solvers.quota import (
    QuotaOutcome,
    fold_quotas,
    solve_exact,
    solve_lagrangian,
)
from matching.allocation.solvers.stable import opening_proposing, student_proposing


@dataclass(slots=True)
class PartOutcome:
    status: Status
    chosen: IntArray  # pair indices of the part's problem, locks included
    objective: int
    bound: int
    method: str
    conflicts: list[str] = field(default_factory=list)
    stats: dict[str, float | int | str] = field(default_factory=dict)


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def _best_per_student(prepared: Prepared) -> int:
    """An upper bound that needs no feasible solution: no allocation weighs more than every student
    at their best allowed pair.  Reported as the bound of an infeasible part."""
    problem = prepared.problem
    allowed = ~prepared.forbidden
    best = np.zeros(problem.n_students, dtype=np.int64)
    np.maximum.at(best, problem.pair_student[allowed], prepared.weights[allowed])
    return int(np.maximum(best, 0).sum())


def _flow_outcome(prepared: Prepared) -> PartOutcome:
    """The exact answer when every remaining constraint is flow-expressible."""
    locked = prepared.locked_pairs
    flow = solve_flow(prepared)
    if flow.college_short.any() or flow.program_short.any():
        # The flow maximised fit with the floors relaxed: its value bounds every allocation's.
        return PartOutcome(Status.INFEASIBLE, _empty(), 0, flow.value + int(prepared.weights[locked].sum()),
                           "min-cost-flow", floor_conflicts(prepared, flow.college_short, flow.program_short))
    objective = flow.value + int(prepared.weights[locked].sum())
    return PartOutcome(Status.OPTIMAL, np.concatenate([locked, flow.chosen]), objective, objective,
                       "min-cost-flow")


def _solve_with_floors(prepared: Prepared, params: InternshipParams, deadline: float) -> PartOutcome:
    """Optimal mode for one part whose floors are already in ``prepared``."""
    if not _floors_nest(prepared):
        # College and program floors on crossing groups are no flow: CP-SAT decides them.
        return _exact_outcome(prepared, params, deadline)
    if prepared.quotas.n_groups == 0:
        return _flow_outcome(prepared)
    reach = _quota_reach_conflicts(prepared)
    if reach:
        return PartOutcome(Status.INFEASIBLE, _empty(), 0, _best_per_student(prepared), "precheck", reach)
    # Quotas that are really enterprise caps (one college per enterprise) leave the quota model.
    folded = fold_quotas(prepared)
    if folded.quotas.n_groups == 0:
        return _flow_outcome(folded)
    locked = folded.locked_pairs
    locked_weight = int(folded.weights[locked].sum())
    remaining = max(deadline - time.monotonic(), 0.0)
    if folded.problem.n_pairs <= params.exact_max_pairs:
        outcome = _exact_with_start(folded, params, deadline)
    else:
        outcome = solve_lagrangian(folded, params.lagrangian_iterations, params.target_gap, deadline)
        remaining = deadline - time.monotonic()
        if (outcome.status == Status.NO_SOLUTION_IN_TIME and remaining > 0
                and folded.problem.n_pairs <= params.fallback_max_pairs):
            # No repair met the floors: CP-SAT decides the part, keeping the better of the two bounds.
            exact = solve_exact(folded, remaining, params.seed)
            if exact.status != Status.NO_SOLUTION_IN_TIME:
                exact.bound = min(exact.bound, outcome.bound) if exact.status == Status.FEASIBLE else exact.bound
                exact.method = "lagrangian-flow+cp-sat"
                outcome = exact
    if outcome.status == Status.INFEASIBLE:
        relaxed = solve_flow(prepared)
        conflicts = floor_conflicts(prepared, relaxed.college_short, relaxed.program_short) or (
            _quota_floor_conflicts(prepared))
        return PartOutcome(Status.INFEASIBLE, _empty(), 0,
                           relaxed.value + int(prepared.weights[prepared.locked_pairs].sum()), outcome.method,
                           conflicts)
    if outcome.status == Status.NO_SOLUTION_IN_TIME:
        return PartOutcome(outcome.status, _empty(), 0, outcome.bound + locked_weight, outcome.method)
    return PartOutcome(outcome.status, np.concatenate([locked, outcome.chosen]),
                       outcome.objective + locked_weight, outcome.bound + locked_weight, outcome.method,
                       stats={"lagrangian_iterations": outcome.iterations} if outcome.iterations else {})


def _exact_with_start(prepared: Prepared, params: InternshipParams, deadline: float) -> QuotaOutcome:
    """Small parts: the Lagrangian method first (a good allocation and a tight bound in moments),
    then CP-SAT, hinted with that allocation, to prove the optimum; the better of the two counts."""
    if deadline - time.monotonic() <= 0:
        return solve_exact(prepared, 0.0, params.seed)
    quick = solve_lagrangian(prepared, params.lagrangian_iterations, 0.0, deadline)
    if quick.status in (Status.OPTIMAL, Status.INFEASIBLE):
        return quick
    hint = quick.chosen if quick.status == Status.FEASIBLE else None
    exact = solve_exact(prepared, max(deadline - time.monotonic(), 0.0), params.seed, hint=hint)
    if exact.status in (Status.OPTIMAL, Status.INFEASIBLE) or quick.status != Status.FEASIBLE:
        # The Lagrangian bound is valid whatever its repair found; keep the tighter one.
        if exact.status == Status.NO_SOLUTION_IN_TIME:
            exact.bound = min(exact.bound, quick.bound) if exact.bound > 0 else quick.bound
        elif exact.status == Status.FEASIBLE:
            exact.bound = max(min(exact.bound, quick.bound), exact.objective)
        return exact
    best = exact if exact.status == Status.FEASIBLE and exact.objective >= quick.objective else quick
    bound = min(quick.bound, exact.bound) if exact.status == Status.FEASIBLE else quick.bound
    bound = max(bound, best.objective)
    return QuotaOutcome(Status.OPTIMAL if bound == best.objective else Status.FEASIBLE, best.chosen,
                        best.objective, bound, "lagrangian-flow+cp-sat", quick.iterations)


def _floors_nest(prepared: Prepared) -> bool:
    """Whether the floor groups form a tree (every floored program inside one college)."""
    if not (prepared.college_min_left.any() and prepared.program_min_left.any()):
        return True
    problem = prepared.problem
    keys = np.unique(problem.student_program.astype(np.int64) * len(problem.college_ids)
                     + problem.student_college)
    return len(keys) == len(np.unique(keys // len(problem.college_ids)))


def _exact_outcome(prepared: Prepared, params: InternshipParams, deadline: float) -> PartOutcome:
    locked = prepared.locked_pairs
    locked_weight = int(prepared.weights[locked].sum())
    outcome = solve_exact(prepared, max(deadline - time.monotonic(), 0.0), params.seed)
    if outcome.status == Status.INFEASIBLE:
        return PartOutcome(Status.INFEASIBLE, _empty(), 0, _best_per_student(prepared), outcome.method,
                           ["college and program floors cannot both be met with the seats, caps and quotas"])
    if outcome.status == Status.NO_SOLUTION_IN_TIME:
        return PartOutcome(outcome.status, _empty(), 0, outcome.bound + locked_weight, outcome.method)
    return PartOutcome(outcome.status, np.concatenate([locked, outcome.chosen]),
                       outcome.objective + locked_weight, outcome.bound + locked_weight, outcome.method)


def _quota_reach_conflicts(prepared: Prepared) -> list[str]:
    """Floors of colleges that their quotas alone rule out (an exact, cheap infeasibility test)."""
    problem = prepared.problem
    quotas = prepared.quotas
    live = prepared.usable & (prepared.seats_left[problem.pair_opening] > 0)
    n_colleges = len(problem.college_ids)
    # A student with a quota-free live pair can always count; otherwise reach is the quotas left.
    free_students = np.unique(problem.pair_student[live & (quotas.pair_group < 0)])
    reachable = np.bincount(problem.student_college[free_students], minlength=n_colleges).astype(np.int64)
    used_groups = np.unique(quotas.pair_group[live & (quotas.pair_group >= 0)])
    np.add.at(reachable, quotas.college[used_groups], prepared.quota_left[used_groups])
    students = np.unique(problem.pair_student[live])
    reachable = np.minimum(reachable, np.bincount(problem.student_college[students], minlength=n_colleges))
    short = np.flatnonzero(reachable < prepared.college_min_left)
    return [f"floor of college {problem.college_ids[c]} needs {int(prepared.college_min_left[c])} more "
            f"placements, its students and (college, enterprise) quotas allow at most {int(reachable[c])}"
            for c in short]


def _quota_floor_conflicts(prepared: Prepared) -> list[str]:
    """Colleges whose floor exceeds what their quotas allow at the enterprises they can reach."""
    problem = prepared.problem
    quotas = prepared.quotas
    reachable = np.zeros(len(problem.college_ids), dtype=np.int64)
    # Quota-free pairs make a college's reach unbounded here; count them as their students.
    free_pairs = prepared.usable & (quotas.pair_group < 0)
    free_students = np.unique(problem.pair_student[free_pairs])
    np.add.at(reachable, problem.student_college[free_students], 1)
    used_groups = np.unique(quotas.pair_group[prepared.usable & (quotas.pair_group >= 0)])
    np.add.at(reachable, quotas.college[used_groups], prepared.quota_left[used_groups])
    short = np.flatnonzero(reachable < prepared.college_min_left)
    messages = [f"floor of college {problem.college_ids[c]} needs {int(prepared.college_min_left[c])} placements, "
                f"its (college, enterprise) quotas allow at most {int(reachable[c])}" for c in short]
    return messages or ["floors cannot be met within the (college, enterprise) quotas"]


def _college_rate_floors(problem: InternshipProblem, rate: float) -> IntArray:
    sizes = np.bincount(problem.student_college, minlength=len(problem.college_ids))
    floors: IntArray = np.ceil(rate * sizes - 1e-9).astype(np.int64)
    return floors


def _solve_fair(prepared: Prepared, params: InternshipParams, deadline: float) -> PartOutcome:
    """Largest minimum college placement rate (by bisection over the possible rates), then fit."""
    problem = prepared.problem
    sizes = np.bincount(problem.student_college, minlength=len(problem.college_ids))
    locked_per_college = np.bincount(problem.student_college[problem.pair_student[prepared.locked_pairs]],
                                     minlength=len(sizes))
    rates = np.unique(np.concatenate([np.arange(n + 1) / n for n in sizes[sizes > 0].tolist()] or [[0.0]]))
    base_college = prepared.college_min_left.copy()

    def attempt(rate: float) -> PartOutcome:
        needed = np.maximum(_college_rate_floors(problem, rate) - locked_per_college, 0)
        prepared.college_min_left = np.maximum(base_college, needed)
        return _solve_with_floors(prepared, params, deadline)

    low, high = 0, len(rates) - 1
    best = attempt(float(rates[0]))
    if best.status in (Status.INFEASIBLE, Status.NO_SOLUTION_IN_TIME):
        return best
    best_rate = float(rates[0])
    while low < high:
        mid = (low + high + 1) // 2
        outcome = attempt(float(rates[mid]))
        if outcome.status in (Status.OPTIMAL, Status.FEASIBLE):
            low, best, best_rate = mid, outcome, float(rates[mid])
        else:
            high = mid - 1
    prepared.college_min_left = base_college
    best.stats["min_college_rate"] = best_rate
    best.method += "+fairness"
    return best


def _params_for(part: InternshipProblem, params: InternshipParams) -> InternshipParams:
    """Locks and forbidden pairs of the part's own students (the others belong to other parts)."""
    own = set(part.student_ids)
    return dataclasses.replace(params, locks=tuple(p for p in params.locks if p[0] in own),
                               forbidden=tuple(p for p in params.forbidden if p[0] in own))


def _solve_shared_part(shared: tuple[InternshipProblem, InternshipParams],
                       task: tuple[PartIndices, float, float]) -> PartOutcome:
    """One part of the whole problem ``shared`` (sent to the worker once), by its indices."""
    problem, params = shared
    part, wall_deadline, budget = task
    sub = subproblem(problem, part.students, part.openings, part.pairs)
    deadline = time.monotonic() + (wall_deadline - time.time())
    return _solve_part((sub, _params_for(sub, params), deadline, budget))


def _solve_part(task: tuple[InternshipProblem, InternshipParams, float, float]) -> PartOutcome:
    problem, params, deadline, budget = task
    return _solve_prepared(prepare(problem, params), params, deadline, budget)


def _solve_prepared(prepared: Prepared, params: InternshipParams, deadline: float, budget: float) -> PartOutcome:
    # Each part gets its share of the time (by size and workers) so that late parts are not starved.
    deadline = min(deadline, time.monotonic() + budget)
    if prepared.conflicts:
        return PartOutcome(Status.INFEASIBLE, _empty(), 0, _best_per_student(prepared), "precheck",
                           list(prepared.conflicts))
    if params.fairness:
        return _solve_fair(prepared, params, deadline)
    return _solve_with_floors(prepared, params, deadline)


def _timed_optimum(prepared: Prepared) -> tuple[int, float]:
    started = time.monotonic()
    optimum = seats_only_optimum(prepared) + int(prepared.weights[prepared.locked_pairs].sum())
    return optimum, time.monotonic() - started


class _Optimum:
    """The price-of-stability optimum, computed in a forked child while the parent goes on.

    A forked child reads the parent's arrays without pickling them and, unlike a thread, competes
    neither for the GIL nor for the parent's page-fault lock (measured: a thread slowed deferred
    acceptance 3x).  Only two integers come back through the pipe.  It runs inline instead for
    small problems, where fork is unavailable, inside a daemonic process (which may not have
    children), or when no core is idle: on a busy box the child only competes with the parent
    (measured under load 3.5 on 2 cores: 4.0-4.6 s forked against 3.5-4.2 s inline).  The value is
    the same either way; only the timing differs.
    """

    def __init__(self, prepared: Prepared) -> None:
        self._value: tuple[int, float] | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self.where = "child" if _overlap_pays(prepared) else "inline"
        if self.where == "inline":
            self._value = _timed_optimum(prepared)
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_send_optimum, args=(prepared, send), daemon=True,
                                        name="price-of-stability")
        self._process.start()
        send.close()
        self._prepared = prepared

    def result(self) -> tuple[int, float]:
        if self._value is None:
            try:
                outcome = self._receive.recv()
            except EOFError:  # the child died; fall back to computing it here
                outcome = _timed_optimum(self._prepared)
            finally:
                self._receive.close()
                if self._process is not None:
                    self._process.join()
            if isinstance(outcome, BaseException):
                raise outcome
            self._value = outcome
        return self._value


OVERLAP_MIN_PAIRS = 200_000


def _overlap_pays(prepared: Prepared) -> bool:
    if prepared.problem.n_pairs < OVERLAP_MIN_PAIRS or multiprocessing.current_process().daemon:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores >= 2 and _runnable() < cores


def _runnable() -> float:
    """Threads running or ready to run right now, this one included (Linux); else the 1-minute load.

    The instantaneous count, not the load average: the average lags, and this very process (reading
    the instance a second ago) would make it say "busy" on an idle box.
    """
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return float(handle.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return os.getloadavg()[0] + 1


def _send_optimum(prepared: Prepared, send: Connection) -> None:
    try:
        send.send(_timed_optimum(prepared))
    except Exception as exc:  # the parent re-raises it
        send.send(exc)
    finally:
        send.close()


def _solve_stable(problem: InternshipProblem, params: InternshipParams,
                  ) -> tuple[PartOutcome, StrictPreferences | None, _Optimum | None]:
    """Deferred acceptance; the price-of-stability optimum runs meanwhile in a child process.

    The optimum (one min-cost flow per group of provinces) overlaps with deriving the strict orders,
    deferred acceptance, the check and the reasons; the caller collects it last.
    """
    if (params.quotas or params.default_quota is not None or params.college_floor or params.program_floor
            or params.fairness or bool((problem.enterprise_cap >= 0).any())):
        raise ProblemError("stable mode supports seats, locks and forbidden pairs only; enterprise caps, "
                           "quotas, floors and fairness need mode 'optimal'")
    prepared = prepare(problem, params)
    if prepared.conflicts:
        return (PartOutcome(Status.INFEASIBLE, _empty(), 0, _best_per_student(prepared), "precheck",
                            list(prepared.conflicts)), None, None)
    # A stable matching is exact for its own question; what it costs against the unconstrained
    # optimum (one more min-cost flow) is reported separately as the price of stability.
    optimum = _Optimum(prepared) if params.price_of_stability else None
    # One derivation of the strict orders serves the solver, the blocking-pair check and reasons.
    prefs = strict_preferences(problem, params.seed)
    algorithm = student_proposing if params.proposer == Proposer.STUDENTS else opening_proposing
    started = time.monotonic()
    assigned = algorithm(problem, prefs, prepared.seats_left, prepared.usable)
    chosen = np.concatenate([prepared.locked_pairs, assigned[assigned >= 0]])
    objective = int(prepared.weights[chosen].sum())
    stats: dict[str, float | int | str] = {"deferred_acceptance_s": round(time.monotonic() - started, 3)}
    return (PartOutcome(Status.OPTIMAL, chosen, objective, objective,
                        f"deferred-acceptance-{params.proposer.value}-proposing", stats=stats), prefs, optimum)


def _budgets(sizes: list[int], workers: int, seconds: float) -> list[float]:
    """Seconds per part: proportional to its candidate pairs, ``workers`` parts running at once."""
    total = max(sum(sizes), 1)
    # The shares add up to the time available; a small minimum (a second at most) lets tiny parts
    # finish their first steps without taking much from the others.
    least = min(1.0, 0.05 * seconds)
    return [max(seconds * min(1.0, workers * size / total), least) for size in sizes]


def solve_internships(problem: InternshipProblem, params: InternshipParams,
                      executor: Executor | None = None,
                      progress: Callable[[int, int], None] | None = None) -> InternshipResult:
    """Solve an internship allocation and verify it.

    Returns placements as ``assigned_pair`` (one candidate pair index or -1 per student), status,
    objective, bound and gap (weights from :func:`matching.allocation.weights.fit_weights`), and the
    reasons of every unplaced student.  Optimal mode with partitions solves independent parts
    through ``executor`` (inline by default); results are identical for every executor, and
    ``progress(parts done, parts)`` is called as each finishes (it may raise to abort).  In stable
    mode the stable matching is exact (``bound == objective``); the unconstrained optimum and the
    price of stability are in ``stats`` unless ``params.price_of_stability`` is off.
    Seats a partnership reserved (``problem.reservations``) go to its programs' students only; such
    problems are solved as seat types (:mod:`matching.allocation.reservations`) and checked on both
    the seat types and the original problem.
    Raises :class:`~matching.allocation.checker.CheckFailedError` if a solver broke a rule.
    """
    if problem.reservations:
        return _solve_reserved(problem, params, executor, progress)
    started = time.monotonic()
    deadline = started + params.time_limit_s
    prefs: StrictPreferences | None = None
    optimum: _Optimum | None = None
    whole: Prepared | None = None  # the whole problem prepared, when it was solved in one part
    if params.mode == Mode.STABLE:
        stable, prefs, optimum = _solve_stable(problem, params)
        parts_out = [stable]
        maps = [np.arange(problem.n_pairs, dtype=np.int64)]
    else:
        has_quotas = bool(params.quotas) or params.default_quota is not None
        can_split = params.partition_key is not None and not params.fairness
        if can_split:
            has_floors = bool(params.college_floor or params.program_floor)
            parts = part_indices(problem, link_colleges=has_floors or has_quotas,
                                 link_enterprises=has_quotas or bool((problem.enterprise_cap >= 0).any()))
        else:
            parts = []
        if len(parts) > 1:
            pair_lookup(problem, params.locks + params.forbidden)  # unknown ids fail here, once
            maps = [part.pairs for part in parts]
            pool = executor or InlineExecutor()
            budgets = _budgets([len(part.pairs) for part in parts], pool.parallelism, deadline - time.monotonic())
            # The whole problem goes to the workers once; each task cuts its own part out of it.
            # The deadline travels as wall-clock time: a task may run on another machine, whose
            # monotonic clock has another origin.
            wall_deadline = time.time() + (deadline - time.monotonic())
            tasks = [(part, wall_deadline, budget) for part, budget in zip(parts, budgets, strict=True)]
            # A part's result does not depend on when it runs: its budget starts when it starts.
            parts_out = pool.map_shared(_solve_shared_part, (problem, params), tasks, progress)
        else:
            maps = [np.arange(problem.n_pairs, dtype=np.int64)]
            whole = prepare(problem, params)  # the reasons below read it again
            parts_out = [_solve_prepared(whole, params, deadline, params.time_limit_s)]

    statuses = {p.status for p in parts_out}
    conflicts = tuple(c for p in parts_out for c in p.conflicts)
    assigned = np.full(problem.n_students, -1, dtype=np.int64)
    if Status.INFEASIBLE in statuses:
        status = Status.INFEASIBLE
    elif Status.NO_SOLUTION_IN_TIME in statuses:
        status = Status.NO_SOLUTION_IN_TIME
    else:
        status = Status.FEASIBLE if Status.FEASIBLE in statuses else Status.OPTIMAL
        for part, pair_map in zip(parts_out, maps, strict=True):
            global_pairs = pair_map[part.chosen]
            assigned[problem.pair_student[global_pairs]] = global_pairs
    solved = status in (Status.OPTIMAL, Status.FEASIBLE)
    objective = sum(p.objective for p in parts_out) if solved else 0
    bound = sum(p.bound for p in parts_out)
    stats: dict[str, float | int | str] = {"parts": len(parts_out)}
    iterations = sum(int(p.stats.get("lagrangian_iterations", 0)) for p in parts_out)
    if iterations:
        stats["lagrangian_iterations"] = iterations
    for p in parts_out:
        stats.update({k: v for k, v in p.stats.items() if k != "lagrangian_iterations"})

    violations = check_internships(problem, params, assigned, check_floors_and_stability=solved, prefs=prefs)
    if violations:
        raise CheckFailedError("; ".join(violations[:10]))

    prepared = whole if whole is not None else prepare(problem, params)
    unplaced = unplaced_reasons(prepared, assigned, prefs) if solved else ()
    if optimum is not None:
        optimum_value, optimum_s = optimum.result()
        stats.update({"optimal_objective": optimum_value,
                      "price_of_stability": round(optimum_value / objective, 6) if objective else float("nan"),
                      "price_of_stability_s": round(optimum_s, 3), "price_of_stability_in": optimum.where})
    placed = assigned[assigned >= 0]
    return InternshipResult(
        status=status,
        assigned_pair=assigned,
        objective=objective,
        bound=bound,
        total_fit=float(problem.pair_score[placed].sum()),
        wall_time_s=time.monotonic() - started,
        method=",".join(sorted({p.method for p in parts_out})),
        conflicts=conflicts,
        unplaced=unplaced,
        blocking_pairs=0,
        stats=stats,
    )


def _solve_reserved(problem: InternshipProblem, params: InternshipParams, executor: Executor | None,
                    progress: Callable[[int, int], None] | None = None) -> InternshipResult:
    """Solve the seat types, map the result back, check it, and name the partnerships in reasons."""
    started = time.monotonic()
    by_opening = validate_reservations(problem)
    conflicts = lock_conflicts(problem, params)
    if conflicts:
        return InternshipResult(Status.INFEASIBLE, np.full(problem.n_students, -1, dtype=np.int64), 0, 0, 0.0,
                                time.monotonic() - started, "precheck", tuple(conflicts))
    expansion = expand(problem, params)
    inner = solve_internships(expansion.problem, expansion.params, executor, progress)
    assigned = np.full(problem.n_students, -1, dtype=np.int64)
    placed_now = inner.assigned_pair >= 0
    assigned[placed_now] = expansion.pair_origin[inner.assigned_pair[placed_now]]
    solved = inner.status in (Status.OPTIMAL, Status.FEASIBLE)
    violations = check_internships(problem, params, assigned.astype(np.int64), check_floors_and_stability=solved)
    if violations:
        raise CheckFailedError("; ".join(violations[:10]))
    conflicts = list(inner.conflicts)
    if inner.status == Status.INFEASIBLE:
        for o, ks in sorted(by_opening.items()):
            for k in ks:
                r = problem.reservations[k]
                conflicts.append(f"{r.seats} of the {int(problem.opening_seats[o])} seats of opening "
                                 f"{problem.opening_ids[o]} are reserved for partnership {r.partnership}'s programs")
    unplaced = _reserved_reasons(problem, by_opening, assigned.astype(np.int64), inner.unplaced) if solved else ()
    placed = assigned[assigned >= 0]
    return dataclasses.replace(inner, assigned_pair=assigned.astype(np.int64), conflicts=tuple(conflicts),
                               unplaced=unplaced, total_fit=float(problem.pair_score[placed].sum()),
                               wall_time_s=time.monotonic() - started)


def _reserved_reasons(problem: InternshipProblem, by_opening: dict[int, list[int]], assigned: IntArray,
                      unplaced: tuple[Unplaced, ...]) -> tuple[Unplaced, ...]:
    """``reserved`` (with the partnerships) for a student who had a candidate opening whose free
    seats were taken while seats of it stayed held for a partnership the student is not part of."""
    if not unplaced:
        return unplaced
    program = problem.student_program
    placed = np.flatnonzero(assigned >= 0)
    used = np.bincount(problem.pair_opening[assigned[placed]], minlength=problem.n_openings)
    student_index = {sid: i for i, sid in enumerate(problem.student_ids)}
    out = []
    for u in unplaced:
        s = student_index[u.id]
        names: set[str] = set()
        for a in np.flatnonzero(problem.pair_student == s).tolist():
            o = int(problem.pair_opening[a])
            ks = by_opening.get(o, [])
            own = problem.program_ids[int(program[s])]
            if ks and used[o] < problem.opening_seats[o] and not any(
                    own in problem.reservations[k].programs for k in ks):
                names |= {problem.reservations[k].partnership for k in ks}
        if names:
            reasons = (*u.reasons, UnplacedReason.RESERVED)
            out.append(Unplaced(u.id, u.group, reasons, tuple(sorted(names))))
        else:
            out.append(u)
    return tuple(out)
