"""Why an allocation run is infeasible, in sentences of the reader's language with names.

The solver (``matching/allocation``) knows no names and reports each conflict as one English
sentence with ids (``constraints.py``, ``internships.py``); the worker stores them joined in
``run.error``.  Each known sentence is read back here into a code and its numbers, the ids are
replaced by the names people know (college, program, enterprise, opening, student number), and the
sentence is worded from the catalogue.  A sentence of no known form shows its English words in
the English UI and a general sentence in zh-CN, never English there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.web.i18n import Gettext
from app.web.messages import N_

PREFIX = "constraints in conflict: "

# code -> (pattern of the solver's sentence, message); the groups name the message's parameters.
# An id group is named by its kind (college, program, enterprise, opening, student).
CONFLICTS: dict[str, tuple[re.Pattern[str], str]] = {
    "lock_not_candidate": (re.compile(r"^lock \((?P<student>\d+), (?P<opening>\d+)\) is not a candidate pair$"),
                           N_("Student %(student)s cannot be pinned to %(opening)s: the pair is not a candidate of "
                              "this run (not eligible, or outside its term and scope).")),
    "lock_forbidden": (re.compile(r"^lock \((?P<student>\d+), (?P<opening>\d+)\) is also a forbidden pair$"),
                       N_("Student %(student)s is both pinned to %(opening)s and forbidden from it.")),
    "student_locked_twice": (re.compile(r"^student (?P<student>\d+) is locked to (?P<count>\d+) openings$"),
                             N_("Student %(student)s is pinned to %(count)s openings at once.")),
    "locks_exceed_seats": (re.compile(r"^locks on opening (?P<opening>\d+) exceed its (?P<seats>\d+) seats$"),
                           N_("The pins and accepted placements at %(opening)s exceed its %(seats)s seats.")),
    "locks_exceed_cap": (re.compile(r"^locks at enterprise (?P<enterprise>\d+) exceed its cap "
                                    r"max_interns=(?P<cap>\d+)$"),
                         N_("The pins and accepted placements at %(enterprise)s exceed its limit of %(cap)s interns.")),
    "locks_exceed_quota": (re.compile(r"^locks exceed quota \((?P<college>\d+), (?P<enterprise>\d+)\) of "
                                      r"(?P<limit>\d+)$"),
                           N_("The pins exceed the quota of %(limit)s students of %(college)s at %(enterprise)s.")),
    "floors_exceed_seats": (re.compile(r"^college floors need (?P<need>\d+) placements but only (?P<seats>\d+) seats "
                                       r"remain$"),
                            N_("The colleges' minimum placement rates need %(need)s placements, but only %(seats)s "
                               "seats remain.")),
    "college_floor_unreachable": (re.compile(r"^floor of college (?P<college>\d+) needs (?P<need>\d+) placements, at "
                                             r"most (?P<reach>\d+) reachable with seats, caps and quotas$"),
                                  N_("%(college)s needs at least %(need)s placements for its minimum rate, but the "
                                     "seats, caps and quotas allow at most %(reach)s.")),
    "program_floor_unreachable": (re.compile(r"^floor of program (?P<program>\d+) needs (?P<need>\d+) placements, at "
                                             r"most (?P<reach>\d+) reachable with seats, caps and quotas$"),
                                  N_("Program %(program)s needs at least %(need)s placements for its minimum rate, but "
                                     "the seats, caps and quotas allow at most %(reach)s.")),
    "college_floor_students": (re.compile(r"^floor of college (?P<college>\d+) needs (?P<need>\d+) more placements, "
                                          r"its students and \(college, enterprise\) quotas allow at most "
                                          r"(?P<reach>\d+)$"),
                               N_("%(college)s needs %(need)s more placements for its minimum rate, but its students "
                                  "and its quotas at enterprises allow at most %(reach)s.")),
    "college_floor_quotas": (re.compile(r"^floor of college (?P<college>\d+) needs (?P<need>\d+) placements, its "
                                        r"\(college, enterprise\) quotas allow at most (?P<reach>\d+)$"),
                             N_("%(college)s needs %(need)s placements for its minimum rate, but its quotas at the "
                                "enterprises it can reach allow at most %(reach)s.")),
    "reserved_locks": (re.compile(r"^locks of (?P<count>\d+) students outside partnership (?P<partnership>[\d+]+) on "
                                  r"opening (?P<opening>\d+) exceed the (?P<free>\d+) seats it does not reserve$"),
                       N_("The pins of students outside partnership %(partnership)s at %(opening)s exceed the "
                          "%(free)s seats it does not reserve.")),
    "reserved_seats": (re.compile(r"^(?P<reserved>\d+) of the (?P<seats>\d+) seats of opening (?P<opening>\d+) are "
                                  r"reserved for partnership (?P<partnership>[\d+]+)'s programs$"),
                       N_("%(reserved)s of the %(seats)s seats of %(opening)s are reserved for the programs of "
                          "partnership %(partnership)s.")),
    "floors_within_quotas": (re.compile(r"^floors cannot be met within the \(college, enterprise\) quotas$"),
                             N_("The minimum placement rates cannot be met within the quotas of colleges at "
                                "enterprises.")),
}
UNKNOWN = N_("One of the run's rules cannot be met together with the others.")
HINT = N_("Lower the minimum placement rates or the quotas, remove pins, or add seats, then run again.")
_KINDS = {"college": "colleges", "program": "programs", "enterprise": "enterprises", "opening": "openings",
          "student": "students"}


def conflicts_of(error: str | None) -> list[str]:
    """The solver's conflict sentences of an infeasible run's stored error."""
    if not error or not error.startswith(PREFIX):
        return []
    return [part.strip() for part in error[len(PREFIX):].split("; ") if part.strip()]


def parse(sentence: str) -> tuple[str, dict[str, str]] | None:
    for code, (pattern, _message) in CONFLICTS.items():
        found = pattern.match(sentence)
        if found:
            return code, found.groupdict()
    return None


def explain(g: Gettext, error: str | None,
            names_of: Callable[[dict[str, set[int]]], dict[str, dict[int, str]]]) -> list[str]:
    """Each conflict of ``error`` as a sentence in ``g``'s language, ids replaced by names
    (``names_of`` maps {kind: ids} to {kind: {id: name}}; an id without a name shows as ``#id``)."""
    parsed = [(sentence, parse(sentence)) for sentence in conflicts_of(error)]
    wanted: dict[str, set[int]] = {kind: set() for kind in _KINDS.values()}
    for _sentence, found in parsed:
        for key, value in (found[1] if found else {}).items():
            if key in _KINDS:
                wanted[_KINDS[key]].add(int(value))
    names = names_of(wanted)
    out: list[str] = []
    for sentence, found in parsed:
        if found is None:
            out.append(sentence if g.locale == "en" else g.gettext(UNKNOWN))
            continue
        code, groups = found
        params: dict[str, Any] = {
            key: (names.get(_KINDS[key], {}).get(int(value)) or f"#{value}") if key in _KINDS else value
            for key, value in groups.items()}
        out.append(g.gettext(CONFLICTS[code][1]) % params)
    return out


__all__ = ["CONFLICTS", "HINT", "conflicts_of", "explain", "parse"]
