"""Internship allocation as a min-cost flow (OR-Tools), built from numpy arrays in one call.

Network: source → [college] → [program] → student → opening → [enterprise] → sink, plus a bypass
arc source → sink for students left unplaced.  Everything a flow can express lives here: seats
(opening arcs), one placement per student (unit student arcs), enterprise caps (enterprise arcs),
forbidden pairs and locks (handled by :func:`matching.allocation.constraints.prepare`), and floors.

A floor is a lower bound on a group arc.  Flows here have no lower bounds, so each group arc is
split into a "floor" part of capacity L with a bonus M larger than any achievable total gain, and
a free remainder: the optimum then meets every reachable floor first and maximises gain second.
Unmet floor units are read back to report which floors are infeasible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.allocation.constraints import Prepared
from matching.allocation.partition import linked_components
from matching.allocation.problem import UNLIMITED, BoolArray, IntArray, InternshipProblem


@dataclass(slots=True)
class FlowOutcome:
    chosen: IntArray  # candidate pair indices placed by the flow
    value: int  # sum of the gains of the chosen pairs
    college_short: IntArray  # floor units a college could not reach
    program_short: IntArray


class FlowError(RuntimeError):
    pass


def solve_flow(
    prepared: Prepared,
    gains: IntArray | None = None,
    usable: BoolArray | None = None,
    seats: IntArray | None = None,
    caps: IntArray | None = None,
    college_min: IntArray | None = None,
    program_min: IntArray | None = None,
) -> FlowOutcome:
    """Maximise the total gain of placed pairs subject to the flow-expressible constraints.

    Every argument defaults to the prepared problem's own value; callers pass their own to solve
    residual problems (repairs) or Lagrangian-penalised gains.  Exact: the result is optimal.
    """
    problem = prepared.problem
    gains = prepared.weights if gains is None else gains
    usable = prepared.usable if usable is None else usable
    seats = prepared.seats_left if seats is None else seats
    caps = prepared.cap_left if caps is None else caps
    college_min = prepared.college_min_left if college_min is None else college_min
    program_min = prepared.program_min_left if program_min is None else program_min

    use_college = bool(college_min.any())
    use_program = bool(program_min.any())
    # Without floors a pair of non-positive gain is never worth taking, so it needs no arc.
    keep = usable & (seats[problem.pair_opening] > 0)
    if not (use_college or use_program):
        keep &= gains > 0
    pairs = np.flatnonzero(keep)
    pair_student = problem.pair_student[pairs]
    pair_gain = gains[pairs].astype(np.int64)

    n_students = problem.n_students
    n_openings = problem.n_openings
    n_colleges = len(problem.college_ids)
    n_programs = len(problem.program_ids)
    n_enterprises = len(problem.enterprise_ids)
    use_caps = bool((caps != UNLIMITED).any())

    source, sink = 0, 1
    college_base = 2
    program_base = college_base + (n_colleges if use_college else 0)
    student_base = program_base + (n_programs if use_program else 0)
    opening_base = student_base + n_students
    enterprise_base = opening_base + n_openings
    if enterprise_base + n_enterprises >= 2**31:
        raise FlowError("min-cost flow: more nodes than OR-Tools' 32-bit node indices hold")

    participating = np.flatnonzero(np.bincount(pair_student, minlength=n_students)).astype(np.int32)
    n_flow = int(participating.shape[0])
    if n_flow == 0:
        empty = np.zeros(0, dtype=np.int64)
        return FlowOutcome(empty, 0, college_min.copy(), program_min.copy())

    bonus = 0
    if use_college or use_program:
        # The bonus must exceed the largest possible total gain so that one more floor unit always wins.
        best_gain = np.zeros(n_students, dtype=np.int64)
        np.maximum.at(best_gain, pair_student, np.maximum(pair_gain, 0))
        bonus = int(best_gain.sum()) + int(np.abs(np.minimum(pair_gain, 0)).sum()) + 1

    # OR-Tools numbers nodes and arcs in 32 bits and takes quantities in 64: arrays built in those
    # types are handed over without a conversion copy (5M pairs: 0.1 s and 40 MB each).
    node = np.int32
    tails: list[np.ndarray[Any, Any]] = []
    heads: list[np.ndarray[Any, Any]] = []
    capacities: list[IntArray] = []
    costs: list[IntArray] = []
    n_arcs = 0

    def add(t: np.ndarray[Any, Any], h: np.ndarray[Any, Any], cap: np.ndarray[Any, Any] | int,
            cost: np.ndarray[Any, Any] | int) -> tuple[int, int]:
        nonlocal n_arcs
        n = len(t)
        tails.append(np.asarray(t, dtype=node))
        heads.append(np.asarray(h, dtype=node))
        capacities.append(np.broadcast_to(np.asarray(cap, dtype=np.int64), (n,)))
        costs.append(np.broadcast_to(np.asarray(cost, dtype=np.int64), (n,)))
        n_arcs += n
        return n_arcs - n, n_arcs

    def add_group_arcs(tail: np.ndarray[Any, Any], head: np.ndarray[Any, Any], size: IntArray,
                       floor: IntArray) -> tuple[int, int]:
        floor_part = np.minimum(floor, size)
        floor_arcs = add(tail, head, floor_part, -bonus)
        add(tail, head, size - floor_part, 0)
        return floor_arcs

    student_college = problem.student_college[participating]
    student_program = problem.student_program[participating]
    college_arcs = program_arcs = (0, 0)
    college_size = np.bincount(student_college, minlength=n_colleges).astype(np.int64)
    program_size = np.bincount(student_program, minlength=n_programs).astype(np.int64)
    colleges = np.arange(n_colleges, dtype=node)
    programs = np.arange(n_programs, dtype=node)
    if use_college:
        college_arcs = add_group_arcs(np.full(n_colleges, source), college_base + colleges,
                                      college_size, college_min)
    if use_program:
        program_college = np.zeros(n_programs, dtype=node)
        program_college[student_program] = student_college
        program_tail = college_base + program_college if use_college else np.full(n_programs, source)
        program_arcs = add_group_arcs(program_tail, program_base + programs, program_size, program_min)
    if use_program:
        student_tail = program_base + student_program
    elif use_college:
        student_tail = college_base + student_college
    else:
        student_tail = np.full(n_flow, source, dtype=node)
    add(student_tail, student_base + participating, 1, 0)
    pair_arcs = add(pair_student + node(student_base), problem.pair_opening[pairs] + node(opening_base), 1,
                    -pair_gain)
    del pair_student
    openings = np.arange(n_openings, dtype=node)
    if use_caps:
        add(opening_base + openings, enterprise_base + problem.opening_enterprise, seats, 0)
        enterprises = np.arange(n_enterprises, dtype=node)
        unlimited = int(seats.sum()) + 1
        add(enterprise_base + enterprises, np.full(n_enterprises, sink),
            np.where(caps == UNLIMITED, unlimited, caps), 0)
    else:
        add(opening_base + openings, np.full(n_openings, sink), seats, 0)
    add(np.array([source]), np.array([sink]), n_flow, 0)

    network = min_cost_flow.SimpleMinCostFlow()
    arcs = [np.concatenate(part) for part in (tails, heads, capacities, costs)]
    # The network holds its own copy: the pieces go before the solve (at 50M pairs, gigabytes).
    for part in (tails, heads, capacities, costs):
        part.clear()
    del pair_gain
    network.add_arcs_with_capacity_and_unit_cost(*arcs)
    del arcs
    network.set_nodes_supplies(np.array([source, sink], dtype=node), np.array([n_flow, -n_flow], dtype=np.int64))
    status = network.solve()
    if status != network.OPTIMAL:
        raise FlowError(f"min-cost flow returned status {status}")

    pair_flow = network.flows(np.arange(pair_arcs[0], pair_arcs[1], dtype=node))
    chosen = pairs[pair_flow > 0]
    college_short = np.zeros(n_colleges, dtype=np.int64)
    program_short = np.zeros(n_programs, dtype=np.int64)
    if use_college:
        college_short = college_min - network.flows(np.arange(*college_arcs, dtype=node))
    if use_program:
        program_short = program_min - network.flows(np.arange(*program_arcs, dtype=node))
    return FlowOutcome(
        chosen=chosen.astype(np.int64),
        value=int(gains[chosen].sum()),
        college_short=college_short.astype(np.int64),
        program_short=program_short.astype(np.int64),
    )


def _scope_components(problem: InternshipProblem, pairs: IntArray) -> IntArray:
    """Component of each scope, merging the scopes that the given pairs link."""
    return linked_components(max(len(problem.scope_ids), 1), problem.student_scope[problem.pair_student[pairs]],
                             problem.opening_scope[problem.pair_opening[pairs]])


def _local_index(component: np.ndarray[Any, Any]) -> IntArray:
    """Each item's index among the items of its component, in item order."""
    order = np.argsort(component, kind="stable")
    counts = np.bincount(component)
    local = np.empty(len(component), dtype=np.int64)
    local[order] = np.arange(len(component), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return local


def seats_only_optimum(prepared: Prepared) -> int:
    """The largest total weight of placements under seats alone (no caps, no floors), exactly.

    Without caps or floors nothing links two scopes but their candidate pairs, so the flow splits
    into one small network per connected group of scopes (provinces): the same optimum as one big
    flow, in much less time.  OR-Tools releases the GIL while solving, so this may run in a thread.
    """
    problem = prepared.problem
    if bool((prepared.cap_left != UNLIMITED).any()) or bool(prepared.college_min_left.any()) or bool(
            prepared.program_min_left.any()):
        raise FlowError("seats_only_optimum: the problem has caps or floors")
    gains = prepared.weights
    seats = prepared.seats_left
    pairs = np.flatnonzero(prepared.usable & (seats[problem.pair_opening] > 0) & (gains > 0))
    if pairs.size == 0:
        return 0
    component = _scope_components(problem, pairs)
    # Number students and openings densely within their component, once for all components.
    small = np.uint16 if len(component) < 2**16 else np.int64  # a radix sort for the usual case
    student_comp = component[problem.student_scope].astype(small)
    opening_comp = component[problem.opening_scope].astype(small)
    local_student = _local_index(student_comp)
    local_opening = _local_index(opening_comp)
    n_comps = int(component.max()) + 1
    students_in = np.bincount(student_comp, minlength=n_comps)
    openings_in = np.bincount(opening_comp, minlength=n_comps)
    opening_by_comp = np.argsort(opening_comp, kind="stable")
    opening_starts = np.concatenate([[0], np.cumsum(openings_in)])
    pair_comp = student_comp[problem.pair_student[pairs]]
    by_component = np.argsort(pair_comp, kind="stable")
    pairs, pair_comp = pairs[by_component], pair_comp[by_component]
    pair_tail = local_student[problem.pair_student[pairs]]
    pair_head = local_opening[problem.pair_opening[pairs]]
    pair_cost = -gains[pairs].astype(np.int64)
    comps = np.unique(pair_comp)
    bounds = np.searchsorted(pair_comp, np.append(comps, n_comps)).tolist()
    total = 0
    for i, comp in enumerate(comps.tolist()):
        lo, hi = bounds[i], bounds[i + 1]
        n_s, n_o = int(students_in[comp]), int(openings_in[comp])
        openings = opening_by_comp[opening_starts[comp]:opening_starts[comp + 1]]
        source, sink, student_base, opening_base = 0, 1, 2, 2 + n_s
        network = min_cost_flow.SimpleMinCostFlow()
        network.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([np.zeros(n_s, dtype=np.int64), student_base + pair_tail[lo:hi],
                            opening_base + np.arange(n_o, dtype=np.int64), [source]]),
            np.concatenate([student_base + np.arange(n_s, dtype=np.int64), opening_base + pair_head[lo:hi],
                            np.full(n_o, sink, dtype=np.int64), [sink]]),
            np.concatenate([np.ones(n_s + hi - lo, dtype=np.int64), seats[openings].astype(np.int64), [n_s]]),
            np.concatenate([np.zeros(n_s, dtype=np.int64), pair_cost[lo:hi], np.zeros(n_o + 1, dtype=np.int64)]))
        network.set_nodes_supplies(np.array([source, sink]), np.array([n_s, -n_s]))
        status = network.solve()
        if status != network.OPTIMAL:
            raise FlowError(f"min-cost flow returned status {status}")
        total -= int(network.optimal_cost())
    return total
