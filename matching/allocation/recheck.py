"""Is a solved result still valid on today's data?  The check a publication runs.

A run is solved on a snapshot; by the time a scheduler publishes it, HR may have cut seats, an
opening may have moved to another term, a student may have moved program or accepted an offer of
another round.  These functions take the run's proposals and the current facts as plain values and
return every reason the result can no longer be published, each with a code and parameters (so a
user interface can say it in the reader's language) and an English message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from matching.allocation.problem import Reservation


@dataclass(frozen=True)
class Finding:
    """One reason a result is no longer valid."""

    code: str
    message: str
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class OpeningNow:
    """An opening as it stands now.  ``seats`` is what may be held (after the run's overrides and
    the per-post cap); ``live`` the seats already held by accepted placements."""

    id: str
    label: str
    term: str
    province: str
    enterprise_id: str
    seats: int
    live: int
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StudentNow:
    id: str
    label: str
    college_id: str
    province: str
    category: str


@dataclass(frozen=True)
class InternshipScope:
    """What the run covered, and the rules it was solved under."""

    term: str
    province: str | None = None
    college_ids: frozenset[str] = frozenset()
    enterprise_ids: frozenset[str] = frozenset()
    same_category: bool = True


def recheck_internships(
    proposals: Sequence[tuple[str, str]],
    openings: Mapping[str, OpeningNow],
    students: Mapping[str, StudentNow],
    scope: InternshipScope,
    *,
    enterprise_cap: Mapping[str, int],
    enterprise_live: Mapping[str, int],
    current_elsewhere: Mapping[str, str],
    refused_pairs: Collection[tuple[str, str]] = (),
    reservations: Sequence[Reservation] = (),
    student_programs: Mapping[str, str] | None = None,
    live_programs: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """Every reason these (student, opening) proposals can no longer be published.

    ``current_elsewhere`` maps a student to a placement it holds outside this publication;
    ``refused_pairs`` are pairs declined or withdrawn in earlier rounds.  ``reservations`` are the
    seats partnerships in force hold (with ``student_programs`` of the proposed students and the
    programs of the students already holding a seat, ``live_programs``, by opening): the offers and
    the live placements of other programs must fit into the seats an opening does not reserve.
    """
    findings: list[Finding] = []
    offers: Counter[str] = Counter()
    refused = set(refused_pairs)
    for student_id, opening_id in proposals:
        opening, student = openings.get(opening_id), students.get(student_id)
        if opening is None:
            findings.append(Finding("opening_gone", f"opening {opening_id} no longer exists",
                                    {"opening": opening_id}))
            continue
        if student is None:
            findings.append(Finding("student_gone", f"student {student_id} no longer exists",
                                    {"student": student_id}))
            continue
        offers[opening_id] += 1
        if student_id in current_elsewhere:
            findings.append(Finding(
                "student_placed_elsewhere",
                f"student {student.label} already holds placement {current_elsewhere[student_id]}",
                {"student": student.label, "placement": current_elsewhere[student_id]}))
        if (student_id, opening_id) in refused:
            findings.append(Finding("pair_refused",
                                    f"student {student.label} declined {opening.label} in an earlier round",
                                    {"student": student.label, "opening": opening.label}))
        if (scope.college_ids and student.college_id not in scope.college_ids) or (
                scope.province and student.province != scope.province):
            findings.append(Finding("student_out_of_scope",
                                    f"student {student.label} is no longer in the run's scope",
                                    {"student": student.label}))
        if opening.term != scope.term or (scope.province and opening.province != scope.province) or (
                scope.enterprise_ids and opening.enterprise_id not in scope.enterprise_ids):
            findings.append(Finding("opening_out_of_scope",
                                    f"{opening.label} is no longer in the run's term or scope",
                                    {"opening": opening.label}))
        if scope.same_category and opening.categories and student.category not in opening.categories:
            findings.append(Finding("category_mismatch",
                                    f"{opening.label} no longer admits the 专业大类 of student {student.label}",
                                    {"opening": opening.label, "student": student.label}))
    by_enterprise: Counter[str] = Counter()
    for opening_id, count in sorted(offers.items()):
        opening = openings[opening_id]
        by_enterprise[opening.enterprise_id] += count
        if count + opening.live > opening.seats:
            findings.append(Finding(
                "seats_exceeded",
                f"{opening.label}: {count} offers and {opening.live} accepted placements, {opening.seats} seats now",
                {"opening": opening.label, "offers": count, "live": opening.live, "seats": opening.seats}))
    findings += _reservation_findings(proposals, openings, reservations, student_programs or {},
                                      live_programs or {})
    for enterprise_id, count in sorted(by_enterprise.items()):
        cap = enterprise_cap.get(enterprise_id)
        live = enterprise_live.get(enterprise_id, 0)
        if cap is not None and count + live > cap:
            findings.append(Finding(
                "enterprise_cap_exceeded",
                f"enterprise {enterprise_id}: {count} offers and {live} accepted placements, at most {cap} interns",
                {"enterprise": enterprise_id, "offers": count, "live": live, "cap": cap}))
    return findings


def _reservation_findings(proposals: Sequence[tuple[str, str]], openings: Mapping[str, OpeningNow],
                          reservations: Sequence[Reservation], student_programs: Mapping[str, str],
                          live_programs: Mapping[str, Sequence[str]]) -> list[Finding]:
    at: dict[str, list[Reservation]] = {}
    for r in reservations:
        at.setdefault(r.opening, []).append(r)
    held: dict[str, list[str]] = {oid: list(live_programs.get(oid, ())) for oid in at}
    for student_id, opening_id in proposals:
        if opening_id in at:
            held[opening_id].append(student_programs.get(student_id, ""))
    findings = []
    for opening_id, rs in sorted(at.items()):
        opening = openings.get(opening_id)
        if opening is None:
            continue
        counts = Counter(held[opening_id])
        reserved = sum(r.seats for r in rs)
        covered = set().union(*(r.programs for r in rs))
        beyond = sum(max(0, sum(counts[p] for p in r.programs) - r.seats) for r in rs)
        others = sum(n for p, n in counts.items() if p not in covered)
        free = max(opening.seats - reserved, 0)
        if others + beyond > free:
            names = ", ".join(sorted({r.partnership for r in rs}))
            findings.append(Finding(
                "reserved_seats_taken",
                f"{opening.label}: {others + beyond} students outside partnership {names}'s reservation would hold "
                f"more than the {free} seats it does not reserve",
                {"opening": opening.label, "partnership": names, "held": others + beyond, "free": free}))
    return findings


@dataclass(frozen=True)
class LecturerNow:
    id: str
    label: str
    max_weekly_hours: int
    live_hours: int
    province: str
    enterprise_id: str


@dataclass(frozen=True)
class CourseNeedNow:
    id: str
    label: str
    term: str
    weekly_hours: int
    college_id: str
    province: str


def recheck_lecturers(
    proposals: Sequence[tuple[str, str]],
    lecturers: Mapping[str, LecturerNow],
    needs: Mapping[str, CourseNeedNow],
    scope: InternshipScope,
) -> list[Finding]:
    """Every reason these (course need, lecturer) proposals can no longer be published."""
    findings: list[Finding] = []
    hours: Counter[str] = Counter()
    for need_id, lecturer_id in proposals:
        need, lecturer = needs.get(need_id), lecturers.get(lecturer_id)
        if need is None or lecturer is None:
            findings.append(Finding("party_gone", f"course need {need_id} or lecturer {lecturer_id} no longer exists",
                                    {"course_need": need_id, "lecturer": lecturer_id}))
            continue
        hours[lecturer_id] += need.weekly_hours
        if need.term != scope.term or (scope.province and need.province != scope.province) or (
                scope.college_ids and need.college_id not in scope.college_ids):
            findings.append(Finding("course_need_out_of_scope", f"{need.label} is no longer in the run's term or scope",
                                    {"course_need": need.label}))
        if (scope.province and lecturer.province != scope.province) or (
                scope.enterprise_ids and lecturer.enterprise_id not in scope.enterprise_ids):
            findings.append(Finding("lecturer_out_of_scope", f"lecturer {lecturer.label} is no longer in the scope",
                                    {"lecturer": lecturer.label}))
    for lecturer_id, offered in sorted(hours.items()):
        lecturer = lecturers[lecturer_id]
        if offered + lecturer.live_hours > lecturer.max_weekly_hours:
            findings.append(Finding(
                "hours_exceeded",
                f"lecturer {lecturer.label}: {offered} offered and {lecturer.live_hours} accepted weekly hours, "
                f"{lecturer.max_weekly_hours} available now",
                {"lecturer": lecturer.label, "offered": offered, "live": lecturer.live_hours,
                 "max": lecturer.max_weekly_hours}))
    return findings


__all__ = [
    "CourseNeedNow",
    "Finding",
    "InternshipScope",
    "LecturerNow",
    "OpeningNow",
    "StudentNow",
    "recheck_internships",
    "recheck_lecturers",
]
