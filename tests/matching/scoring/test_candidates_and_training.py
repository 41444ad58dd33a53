from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.domain import PlacementOutcome
from matching.scoring import (
    FitModel,
    Pairing,
    PlacementHistory,
    build_training_set,
    prior_model,
    top_k_openings_per_student,
    train_and_evaluate,
)
from matching.scoring.candidates import _Group, _group_top
from matching.scoring.features import opening_text, program_text, student_opening_logit, student_opening_row
from matching.scoring.text import TextSpace
from matching.scoring.training import expected_calibration_error, ndcg_at_k
from tests.matching.scoring.factories import opening, program, random_world, student


def brute_force(progs, opens, studs, k, model, history, coop, space):  # type: ignore[no-untyped-def]
    """Every pair scored one by one; the k best per student by (log-odds, lower opening index).

    "Exact" means: the log-odds of a pair is the one float ``student_opening_logit`` defines (a
    fixed summation order of the model's terms), ties are equal floats.  ``decision_function``
    sums the same terms in another order and may differ in the last bits, which is enough to
    swap two pairs that tie in exact arithmetic; it is checked to agree to 1e-12.
    """
    pmap = {p.id: p for p in progs}
    out = []
    for i, s in enumerate(studs):
        p = pmap[s.program_id]
        sims = space.similarity([program_text(p)], [opening_text(o) for o in opens])[0]
        rows = np.array([student_opening_row(s, p, o, sims[j], history, coop) for j, o in enumerate(opens)])
        z = [student_opening_logit(row, model.coef_, float(model.intercept_)) for row in rows]
        assert np.allclose(z, model.decision_function(rows), rtol=0.0, atol=1e-12)
        order = sorted(range(len(opens)), key=lambda j: (-z[j], j))[:k]
        out.extend((i, j, z[j]) for j in order)
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 12), trained=st.booleans(), copies=st.integers(0, 3))
def test_candidates_equal_scoring_every_pair(seed: int, k: int, trained: bool, copies: int) -> None:
    progs, opens, studs = random_world(seed)
    # Identical postings (an enterprise's batch of one role) tie for every student.
    opens += [replace(o, id=f"{o.id}-{c}") for c in range(copies) for o in opens[::2]]
    coop = {("e1", "c0"): 5, ("e3", "c2"): 30}
    hist = PlacementHistory.from_outcomes(
        [PlacementOutcome("s0", "o0", True, 5), PlacementOutcome("s1", "o1", False)],
        {s.id: {p.id: p for p in progs}[s.program_id].class_code for s in studs},
        {o.id: o.occupation_code for o in opens},
    )
    model = prior_model(Pairing.STUDENT_OPENING)
    if trained:  # negative skill and preference weights exercise the other side of the bounds
        model.coef_ = model.coef_.copy()
        model.coef_[-3] = -1.0
        model.coef_[-1] = -0.5
    space = TextSpace.fit([program_text(p) for p in progs] + [opening_text(o) for o in opens])
    got = top_k_openings_per_student(
        studs, opens, {p.id: p for p in progs}, k, model, history=hist, cooperation=coop, text_space=space
    )
    want = brute_force(progs, opens, studs, k, model, hist, coop, space)
    assert got.student_index.tolist() == [w[0] for w in want]
    assert got.opening_index.tolist() == [w[1] for w in want]
    assert got.logit.tolist() == [w[2] for w in want]  # the same floats, not merely close
    assert np.all((got.score >= 0.0) & (got.score <= 1.0))
    assert got.pairs_scored <= len(studs) * len(opens)


@pytest.mark.parametrize(("seed", "k", "trained"), [(17, 5, False), (17, 12, False), (24, 12, False), (27, 3, False)])
def test_candidates_equal_scoring_every_pair_on_former_failures(seed: int, k: int, trained: bool) -> None:
    # Hypothesis found these: pairs tied in exact arithmetic came out in the wrong order because the
    # vectorised path and the reference rounded their sums differently.
    test_candidates_equal_scoring_every_pair.hypothesis.inner_test(seed, k, trained, 0)  # type: ignore[attr-defined]


def test_candidates_break_exact_ties_by_opening_index() -> None:
    # A same-class opening the student ranked first (1.5 + 1.0) ties a target-major opening (2.5):
    # same city, same text, same skills.  Summed in different orders the two differed in the last
    # bit and the target-major opening came first; one canonical rounding makes them equal floats.
    model = prior_model(Pairing.STUDENT_OPENING)
    p = program("p1", "510206")
    text = "负责云平台部署与监控"
    o0 = opening("o0", eligible_major_codes=("510205",), required_skills=("Linux", "Java"), description=text)
    o1 = opening("o1", eligible_major_codes=("510206",), required_skills=("Linux", "Java"), description=text)
    s = student("s1", "p1", skills=("Linux",), preferences={"o0": 1}, city="", province="")
    space = TextSpace.fit([program_text(p), opening_text(o0), opening_text(o1)])
    got = top_k_openings_per_student([s], [o0, o1], {"p1": p}, 1, model, text_space=space)
    z = [w[2] for w in brute_force([p], [o0, o1], [s], 2, model, None, None, space)]
    assert z[0] == z[1]
    assert got.opening_index.tolist() == [0]
    assert got.logit.tolist() == [z[0]]


def test_candidates_count_each_pair_scored_once() -> None:
    # Same-city openings are non-zeros of the student part; those among the program's k best were
    # counted again on top of the dense block (5 "pairs" for 1 student × 3 openings).
    p = program("p1", "510206")
    opens = [opening(f"o{j}", description=f"负责云平台部署与监控 {'运维' * j}") for j in range(3)]
    s = student("s1", "p1")
    got = top_k_openings_per_student([s], opens, {"p1": p}, 2)
    assert got.opening_index.size == 2
    assert got.pairs_scored == 3


def test_pruning_keeps_a_column_that_rounding_ties_with_the_kth() -> None:
    # Shared parts 1 and 1 + 2^-52 differ, but plus a grade term of 3 both round to 4.0: the
    # columns tie and the lower one wins.  Choosing the k best shared parts before adding the
    # grade term pruned column 0.
    p = np.array([1.0, 1.0 + 2.0**-52])
    assert p[0] + 3.0 == p[1] + 3.0
    for w_skill, w_pref in ((0.0, 0.0), (1.5, 1.0), (-1.0, -0.5)):
        group = _Group(p, np.zeros(2), sp.csr_matrix((1, 1)), sp.csc_matrix((1, 2)), np.ones(2), w_skill, w_pref,
                       np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.array([3.0]),
                       np.zeros(2, dtype=np.int64))
        rows, cols, vals, n = _group_top(group, 1)
        assert (rows.tolist(), cols.tolist(), vals.tolist()) == ([0], [0], [4.0])
        assert n <= 2


def test_identical_openings_beyond_k_are_not_scored() -> None:
    # Fifty copies of one posting tie for every student; the lowest k win and the rest are never
    # scored pair by pair.
    p = program("p1", "510206")
    opens = [opening(f"o{j}", description="负责云平台部署与监控", required_skills=("Linux",)) for j in range(50)]
    studs = [student(f"s{i}", "p1", skills=("Linux",)) for i in range(4)]
    got = top_k_openings_per_student(studs, opens, {"p1": p}, 3)
    assert got.opening_index.tolist() == [0, 1, 2] * 4
    assert got.pairs_scored <= 4 * 6


def test_candidates_prune_far_away_weak_openings() -> None:
    progs, opens, studs = random_world(3, n_openings=200, n_students=60)
    got = top_k_openings_per_student(studs, opens, {p.id: p for p in progs}, 5)
    assert got.pairs_scored < len(studs) * len(opens)
    assert np.bincount(got.student_index).max() == 5


def test_candidates_report_unscorable_inputs() -> None:
    progs, opens, studs = random_world(1, n_openings=5, n_students=5)
    opens.append(opening("bare", description="", required_skills=(), occupation_text=""))
    got = top_k_openings_per_student(studs, opens, {p.id: p for p in progs}, 3)
    assert [u.id for u in got.unscorable_openings] == ["bare"]
    assert len(opens) - 1 not in set(got.opening_index.tolist())


def test_metrics() -> None:
    y = np.array([1, 0, 0, 1, 0])
    groups = np.array(["a", "a", "a", "b", "b"])
    assert ndcg_at_k(y, np.array([3.0, 2, 1, 5, 4]), groups) == pytest.approx(1.0)
    assert ndcg_at_k(y, np.array([1.0, 1, 1, 1, 1]), groups) < 1.0  # ties earn no credit
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
    assert expected_calibration_error(np.array([0, 0]), np.array([0.9, 0.9])) == pytest.approx(0.9)


def test_training_on_outcomes_learns_what_the_prior_does_not_know() -> None:
    # Synthetic history in which only skills decide a placement's success: the trained model must
    # rank held-out outcomes better than the prior, and persist with its metrics.
    progs, opens, studs = random_world(7, n_openings=60, n_students=400)
    rng = np.random.default_rng(0)
    omap = {o.id: o for o in opens}
    outcomes = []
    for s in studs:
        o = omap[f"o{rng.integers(len(opens))}"]
        good = bool(set(s.skills) & set(o.required_skills)) or rng.random() < 0.1
        outcomes.append(PlacementOutcome(s.id, o.id, completed=good, rating=5 if good else 2))
    data = build_training_set(
        outcomes, {s.id: s for s in studs}, {p.id: p for p in progs}, omap, negatives_per_outcome=3, seed=1
    )
    assert data.X.shape == (len(data.y), 13)
    assert set(np.unique(data.y)) == {0, 1}
    result = train_and_evaluate(data, seed=0)
    for name in ("roc_auc", "ndcg@10", "ece", "log_loss"):
        assert np.isfinite(result.trained[name])
        assert np.isfinite(result.prior[name])
    assert result.trained["log_loss"] < result.prior["log_loss"]
    assert result.trained["ece"] < result.prior["ece"]
    blob = result.model.to_bytes("2024-1", result.metrics())
    back = FitModel.from_bytes(blob, expected_features=data.feature_names)
    assert np.allclose(back.decision_function(data.X), result.model.decision_function(data.X))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 12), groups=st.integers(1, 4), trained=st.booleans())
def test_candidates_of_groups_scored_apart_equal_scoring_all_students(seed: int, k: int, groups: int,
                                                                      trained: bool) -> None:
    """A run scores its students province by province with one text space; the merge must be the
    candidates of one call over all, array for array (unscorable students included)."""
    from matching.scoring.candidates import index_openings, merge_candidates, scoring_corpus

    progs, opens, studs = random_world(seed, n_students=60)
    studs.append(student("bare", "missing-program"))
    opens.insert(3, opening("bare", description="", required_skills=(), occupation_text=""))
    programs = {p.id: p for p in progs}
    model = prior_model(Pairing.STUDENT_OPENING)
    if trained:
        model.coef_ = model.coef_.copy()
        model.coef_[-3] = -1.0
    whole = top_k_openings_per_student(studs, opens, programs, k, model)
    space = TextSpace.fit(scoring_corpus(studs, opens, programs))
    index = index_openings(opens, space)
    rnd = np.random.default_rng(seed)
    label = rnd.integers(0, groups, size=len(studs))
    parts = []
    for g in range(groups):
        pos = np.flatnonzero(label == g)
        if pos.size:
            parts.append((pos, top_k_openings_per_student([studs[i] for i in pos], opens, programs, k, model,
                                                          text_space=space, opening_index=index)))
    merged = merge_candidates(parts, [s.id for s in studs])
    for name in ("student_index", "opening_index", "score", "logit"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    assert merged.unscorable_students == whole.unscorable_students
    assert merged.unscorable_openings == whole.unscorable_openings
