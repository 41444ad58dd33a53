"""Scopes merge into components exactly where something links them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.allocation.partition import linked_components, scope_components
from tests.matching.allocation.helpers import make_problem


def _reference(n: int, links: list[tuple[int, int]]) -> list[int]:
    """Smallest scope of each scope's component, by merging sets one link at a time."""
    component = [{i} for i in range(n)]
    for a, b in links:
        if component[a] is not component[b]:
            merged = component[a] | component[b]
            for x in merged:
                component[x] = merged
    return [min(c) for c in component]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_linked_components_equal_merging_link_by_link(data: st.DataObject) -> None:
    # Up to 3,000 scopes: past 2,048 the links are found by sorting their codes, not by counting.
    n = data.draw(st.sampled_from([1, 2, 7, 40, 3000]))
    links = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))
    a = np.asarray([x for x, _ in links], dtype=np.int32)
    b = np.asarray([y for _, y in links], dtype=np.int64)
    assert linked_components(n, a, b).tolist() == _reference(n, links)


def test_enterprises_and_colleges_link_the_scopes_they_span() -> None:
    # Four provinces; candidate pairs stay inside each.  Enterprise e1 has openings in P0 and P1,
    # college c2 has students in P2 and P3.
    students = [("s0", "c0", "g0"), ("s1", "c1", "g1"), ("s2", "c2", "g2"), ("s3", "c2", "g3")]
    openings = [("o0", "e1", 1), ("o1", "e1", 1), ("o2", "e2", 1), ("o3", "e3", 1)]
    candidates = [(f"s{i}", f"o{i}", 0.5) for i in range(4)]
    province = {f"s{i}": f"P{i}" for i in range(4)} | {f"o{i}": f"P{i}" for i in range(4)}
    problem = make_problem(students, openings, candidates, province_of=province)
    scope = {p: i for i, p in enumerate(problem.scope_ids)}

    def grouped(link_colleges: bool, link_enterprises: bool) -> set[frozenset[str]]:
        component = scope_components(problem, link_colleges, link_enterprises)
        return {frozenset(p for p in scope if component[scope[p]] == c) for c in set(component.tolist())}

    alone = {frozenset({p}) for p in scope}
    assert grouped(False, False) == alone
    assert grouped(False, True) == {frozenset({"P0", "P1"}), frozenset({"P2"}), frozenset({"P3"})}
    assert grouped(True, False) == {frozenset({"P0"}), frozenset({"P1"}), frozenset({"P2", "P3"})}
    assert grouped(True, True) == {frozenset({"P0", "P1"}), frozenset({"P2", "P3"})}
