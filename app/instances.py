"""Instance directories (CSV files + ``params.json``) to and from ``matching.allocation`` types.

The format is documented in ``docs/instance-format.md``.  Large files go through pandas' C parser
(millions of candidate rows); when a file does not parse, it is re-read with the csv module to
name the exact file, row and column at fault.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.errors import Unprocessable
from app.executors import EXECUTORS
from app.tabular import decode_text
from matching.allocation import (
    InternshipParams,
    InternshipProblem,
    InternshipResult,
    LecturerParams,
    LecturerProblem,
    LecturerResult,
    Mode,
    Proposer,
    Quota,
)
from matching.allocation.kpis import internship_kpis
from matching.allocation.problem import NOT_RANKED, UNLIMITED, Reservation


class InstanceError(ValueError):
    """The instance directory is malformed; the message names file, row and column."""


# Counts (seats, caps, hours, quotas, ranks) as the service's integer columns hold them; far below
# the int64 sums the solvers form, so no total can wrap.
MAX_INT = 2**31 - 1


@dataclass(slots=True)
class Instance:
    kind: str  # "internship" | "lecturer"
    internship: InternshipProblem | None
    internship_params: InternshipParams | None
    lecturer: LecturerProblem | None
    lecturer_params: LecturerParams | None
    executor: str
    workers: int | None


Column = tuple[str, str]  # (name, kind) where kind is "str" | "id" | "int" | "float" | "rank"


@dataclass(slots=True)
class Codes:
    """A column of ids read once as codes into its distinct values (for millions of rows)."""

    codes: np.ndarray[Any, Any]  # int64 per row, index into ``values``
    values: np.ndarray[Any, Any]  # object array of distinct strings, in order of first appearance


def _text(path: Path) -> str:
    """The file as text, decoded the way the importer decodes uploads (UTF-8, else GB18030)."""
    try:
        return decode_text(path.read_bytes())
    except Unprocessable as exc:
        raise InstanceError(f"{path.name}: {exc.detail}; save it as UTF-8 (or GB18030) CSV") from exc


def _diagnose(path: Path, columns: list[Column], optional: set[str]) -> InstanceError:
    """Find the first bad cell by reading the file slowly; used only once a fast parse failed."""
    with io.StringIO(_text(path), newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return InstanceError(f"{path.name}: empty file, expected a header row")
        header = [h.strip() for h in header]
        for name, _ in columns:
            if name not in header and name not in optional:
                return InstanceError(f"{path.name}, row 1: missing column {name!r} (header: {','.join(header)})")
        for row_number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                return InstanceError(f"{path.name}, row {row_number}: {len(row)} fields, header has {len(header)}")
            for name, kind in columns:
                if name not in header:
                    continue
                value = row[header.index(name)].strip()
                problem = _cell_problem(value, kind)
                if problem:
                    return InstanceError(f"{path.name}, row {row_number}, column {name}: {value!r} {problem}")
    return InstanceError(f"{path.name}: could not be parsed")


def _cell_problem(value: str, kind: str) -> str | None:
    if kind in ("str", "id"):
        return "must not be empty" if not value else None
    if kind == "rank" and value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return f"is not a number ({kind})"
    if kind in ("int", "rank") and (not number.is_integer() or number < (1 if kind == "rank" else 0)):
        return "must be a whole number ≥ 1" if kind == "rank" else "must be a whole number ≥ 0"
    if kind in ("int", "rank") and number > MAX_INT:
        return f"is out of range (at most {MAX_INT})"
    if kind == "float" and not (0.0 <= number <= 1.0):
        return "must be a score in [0, 1]"
    return None


def read_table(path: Path, columns: list[Column], optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Read the named columns of a CSV file into numpy arrays, validating every cell."""
    if not path.exists():
        raise InstanceError(f"{path.name}: file missing in {path.parent}")
    dtypes = {name: "string" if kind == "str" else object if kind == "id" else "float64" for name, kind in columns}
    options: dict[str, Any] = {"dtype": dtypes, "engine": "c", "skipinitialspace": True, "keep_default_na": False,
                               "na_values": {n: [""] for n, k in columns if k not in ("str", "id")}}
    try:
        try:
            frame = pd.read_csv(path, encoding="utf-8-sig", **options)
        except UnicodeDecodeError:
            # What a Chinese-locale spreadsheet saves; decoded once in memory, only then.
            frame = pd.read_csv(io.StringIO(_text(path)), **options)
    except (ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, InstanceError):
            raise
        raise _diagnose(path, columns, set(optional)) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    out: dict[str, Any] = {}
    for name, kind in columns:
        if name not in frame.columns:
            if name in optional:
                continue
            raise InstanceError(f"{path.name}, row 1: missing column {name!r} (header: {','.join(frame.columns)})")
        series = frame[name]
        if kind == "id":
            # Hash the column once into codes; the few distinct values are checked and looked up.
            codes, distinct = pd.factorize(series.to_numpy(dtype=object))
            distinct = np.asarray(distinct, dtype=object)
            empty = np.flatnonzero(distinct == "")
            missing = np.flatnonzero(codes < 0)
            bad_rows = [int(missing[0])] if len(missing) else []
            if len(empty):
                bad_rows.append(int(np.argmax(codes == empty[0])))
            if bad_rows:
                raise InstanceError(f"{path.name}, row {min(bad_rows) + 2}, column {name}: must not be empty")
            out[name] = Codes(codes.astype(np.int64), distinct)
            continue
        if kind == "str":
            values = series.to_numpy(dtype=object)
            bad = np.flatnonzero(pd.isna(series).to_numpy() | (series.str.len() == 0).fillna(True).to_numpy())
            if len(bad):
                raise InstanceError(f"{path.name}, row {int(bad[0]) + 2}, column {name}: must not be empty")
            out[name] = values.astype(str)
            continue
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if kind == "rank":
            finite = ~np.isnan(numbers)
            bad_mask = finite & ((numbers < 1) | (numbers != np.floor(numbers)) | (numbers > MAX_INT))
            ok_numbers = np.where(finite, numbers, NOT_RANKED)
        else:
            bad_mask = np.isnan(numbers)
            if kind == "int":
                # Beyond int64 the cast below would wrap (1e30 became -2**63 seats).
                bad_mask |= (numbers < 0) | (numbers != np.floor(numbers)) | (numbers > MAX_INT)
            else:
                bad_mask |= (numbers < 0) | (numbers > 1)
            ok_numbers = numbers
        bad = np.flatnonzero(bad_mask)
        if len(bad):
            row = int(bad[0])
            shown = series.iloc[row]
            text = "" if pd.isna(shown) else (f"{float(shown):g}" if isinstance(shown, float) else str(shown))
            raise InstanceError(f"{path.name}, row {row + 2}, column {name}: "
                                f"{text!r} {_cell_problem(text, kind) or 'is invalid'}")
        out[name] = ok_numbers.astype(np.float64 if kind == "float" else np.int64)
    out["__rows__"] = len(frame)
    return out


def _unique_ids(path: Path, ids: np.ndarray[Any, Any]) -> None:
    uniques, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if len(uniques) != len(ids):
        dup = int(np.argmax(counts > 1))
        rows = np.flatnonzero(ids == uniques[dup])
        raise InstanceError(f"{path.name}, row {int(rows[1]) + 2}, column id: duplicate id {str(uniques[dup])!r} "
                            f"(first at row {int(first[dup]) + 2})")


def _lookup(path: Path, column: str, values: np.ndarray[Any, Any], ids: tuple[str, ...],
            target: str) -> np.ndarray[Any, Any]:
    positions: np.ndarray[Any, Any] = pd.Index(ids).get_indexer(values)
    bad = np.flatnonzero(positions < 0)
    if len(bad):
        raise InstanceError(f"{path.name}, row {int(bad[0]) + 2}, column {column}: unknown {target} "
                            f"{str(values[int(bad[0])])!r}")
    return positions.astype(np.int32)


def _lookup_codes(path: Path, column: str, values: Codes, ids: tuple[str, ...], target: str) -> np.ndarray[Any, Any]:
    """Row positions of a :class:`Codes` column in ``ids``: one lookup per distinct value."""
    known: np.ndarray[Any, Any] = pd.Index(ids).get_indexer(values.values)
    positions: np.ndarray[Any, Any] = known[values.codes]
    if bool((known < 0).any()):
        row = int(np.argmax(positions < 0))
        raise InstanceError(f"{path.name}, row {row + 2}, column {column}: unknown {target} "
                            f"{str(values.values[values.codes[row]])!r}")
    return positions.astype(np.int32)


def _codes(values: np.ndarray[Any, Any]) -> tuple[tuple[str, ...], np.ndarray[Any, Any]]:
    uniques, inverse = np.unique(values, return_inverse=True)
    return tuple(str(u) for u in uniques), inverse.astype(np.int32)


def read_internship_problem(directory: Path, partition_key: str | None = "province") -> InternshipProblem:
    """The problem of an instance directory; its scopes (what partitions follow) are the values of
    the ``partition_key`` column of students.csv and openings.csv (one scope when it is None)."""
    scope = partition_key or "province"
    extra: list[Column] = [] if scope == "province" else [(scope, "str")]
    students_path = directory / "students.csv"
    students = read_table(students_path, [("id", "str"), ("college", "str"), ("program", "str"),
                                          ("province", "str"), *extra])
    _unique_ids(students_path, students["id"])
    openings_path = directory / "openings.csv"
    openings = read_table(openings_path, [("id", "str"), ("enterprise", "str"), ("seats", "int"),
                                          ("province", "str"), *extra])
    _unique_ids(openings_path, openings["id"])
    college_ids, student_college = _codes(students["college"])
    program_ids, student_program = _codes(students["program"])
    enterprise_ids, opening_enterprise = _codes(openings["enterprise"])
    scope_ids, scope_codes = _codes(np.concatenate([students[scope], openings[scope]]))
    caps = np.full(len(enterprise_ids), UNLIMITED, dtype=np.int64)
    enterprises_path = directory / "enterprises.csv"
    if enterprises_path.exists():
        enterprises = read_table(enterprises_path, [("id", "str"), ("max_interns", "int")])
        _unique_ids(enterprises_path, enterprises["id"])
        positions = pd.Index(enterprise_ids).get_indexer(enterprises["id"])
        known = positions >= 0  # an enterprise without openings has nothing to cap
        caps[positions[known]] = enterprises["max_interns"][known]
    candidates_path = directory / "candidates.csv"
    candidates = read_table(candidates_path, [("student", "id"), ("opening", "id"), ("score", "float"),
                                              ("student_rank", "rank"), ("opening_rank", "rank")],
                            optional=frozenset({"student_rank", "opening_rank"}))
    student_ids = tuple(str(s) for s in students["id"])
    opening_ids = tuple(str(o) for o in openings["id"])
    pair_student = _lookup_codes(candidates_path, "student", candidates["student"], student_ids, "student")
    pair_opening = _lookup_codes(candidates_path, "opening", candidates["opening"], opening_ids, "opening")
    keys = pair_student.astype(np.int64) * max(len(opening_ids), 1) + pair_opening
    ordered = np.sort(keys)
    repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(repeated):
        # Only on failure: name the rows of the smallest repeated pair, as before.
        uniques, counts = np.unique(keys, return_counts=True)
        dup = np.flatnonzero(keys == uniques[int(np.argmax(counts > 1))])
        raise InstanceError(f"{candidates_path.name}, row {int(dup[1]) + 2}: duplicate candidate pair "
                            f"(first at row {int(dup[0]) + 2})")
    n_pairs = len(keys)
    no_rank = np.zeros(n_pairs, dtype=np.int32)
    n_students = len(student_ids)
    reservations = _read_reservations(directory / "reservations.csv", opening_ids)
    return InternshipProblem(
        student_ids=student_ids,
        student_college=student_college,
        student_program=student_program,
        student_scope=scope_codes[:n_students],
        opening_ids=opening_ids,
        opening_enterprise=opening_enterprise,
        opening_seats=openings["seats"].astype(np.int64),
        opening_scope=scope_codes[n_students:],
        enterprise_ids=enterprise_ids,
        enterprise_cap=caps,
        college_ids=college_ids,
        program_ids=program_ids,
        scope_ids=scope_ids,
        pair_student=pair_student,
        pair_opening=pair_opening,
        pair_score=candidates["score"],
        pair_student_rank=candidates.get("student_rank", no_rank).astype(np.int32),
        pair_opening_rank=candidates.get("opening_rank", no_rank).astype(np.int32),
        student_ranks_given="student_rank" in candidates,
        opening_ranks_given="opening_rank" in candidates,
        reservations=reservations,
    )


def _read_reservations(path: Path, opening_ids: tuple[str, ...]) -> tuple[Reservation, ...]:
    """Seats held for partner programs (optional file): partnership, opening, programs (a;b), seats."""
    if not path.exists():
        return ()
    table = read_table(path, [("partnership", "str"), ("opening", "str"), ("programs", "str"), ("seats", "int")])
    _lookup(path, "opening", table["opening"], opening_ids, "opening")
    out = []
    for row, (name, opening, programs, seats) in enumerate(zip(table["partnership"], table["opening"],
                                                               table["programs"], table["seats"], strict=True)):
        names = frozenset(p.strip() for p in str(programs).split(";") if p.strip())
        if not names:
            raise InstanceError(f"{path.name}, row {row + 2}, column programs: no program (use e.g. p1;p2)")
        if int(seats) < 1:
            raise InstanceError(f"{path.name}, row {row + 2}, column seats: must be at least 1, got {int(seats)}")
        out.append(Reservation(partnership=str(name), opening=str(opening), programs=names, seats=int(seats)))
    return tuple(out)


def _slots(path: Path, column: str, values: np.ndarray[Any, Any], slot_index: dict[str, int]) -> tuple[
        frozenset[int], ...]:
    out = []
    for row, text in enumerate(values.tolist()):
        names = [s.strip() for s in str(text).split(";") if s.strip()]
        if not names:
            raise InstanceError(f"{path.name}, row {row + 2}, column {column}: no slots (use e.g. mon1;tue3)")
        out.append(frozenset(slot_index.setdefault(n, len(slot_index)) for n in names))
    return tuple(out)


def read_lecturer_problem(directory: Path) -> LecturerProblem:
    lecturers_path = directory / "lecturers.csv"
    lecturers = read_table(lecturers_path, [("id", "str"), ("enterprise", "str"), ("max_weekly_hours", "int"),
                                            ("slots", "str")])
    _unique_ids(lecturers_path, lecturers["id"])
    needs_path = directory / "course_needs.csv"
    needs = read_table(needs_path, [("id", "str"), ("college", "str"), ("program", "str"),
                                    ("weekly_hours", "int"), ("slots", "str"), ("professional", "int")],
                       optional=frozenset({"professional"}))
    _unique_ids(needs_path, needs["id"])
    slot_index: dict[str, int] = {}
    lecturer_slots = _slots(lecturers_path, "slots", lecturers["slots"], slot_index)
    need_slots = _slots(needs_path, "slots", needs["slots"], slot_index)
    candidates_path = directory / "candidates.csv"
    candidates = read_table(candidates_path, [("lecturer", "str"), ("course_need", "str"), ("score", "float")])
    lecturer_ids = tuple(str(x) for x in lecturers["id"])
    need_ids = tuple(str(x) for x in needs["id"])
    professional = needs.get("professional")
    return LecturerProblem(
        lecturer_ids=lecturer_ids,
        lecturer_enterprise=tuple(str(x) for x in lecturers["enterprise"]),
        lecturer_max_hours=lecturers["max_weekly_hours"],
        lecturer_slots=lecturer_slots,
        need_ids=need_ids,
        need_college=tuple(str(x) for x in needs["college"]),
        need_program=tuple(str(x) for x in needs["program"]),
        need_hours=needs["weekly_hours"],
        need_slots=need_slots,
        # Without a "professional" column every need counts toward the target share.
        need_professional=(np.ones(len(need_ids), dtype=bool) if professional is None
                           else np.asarray(professional == 1, dtype=bool)),
        slot_ids=tuple(sorted(slot_index, key=slot_index.__getitem__)),
        pair_lecturer=_lookup(candidates_path, "lecturer", candidates["lecturer"], lecturer_ids, "lecturer"),
        pair_need=_lookup(candidates_path, "course_need", candidates["course_need"], need_ids, "course need"),
        pair_score=candidates["score"],
    )


_INTERNSHIP_KEYS = {"kind", "mode", "proposer", "time_limit_s", "seed", "college_floor", "program_floor",
                    "quotas", "default_quota", "locks", "forbidden", "fairness", "partition_key",
                    "exact_max_pairs", "lagrangian_iterations", "target_gap", "fallback_max_pairs",
                    "price_of_stability", "executor", "workers"}
_LECTURER_KEYS = {"kind", "time_limit_s", "seed", "target_share", "shortfall_penalty_per_hour", "workers",
                  "executor", "deterministic"}


def _pairs(raw: Any, key: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in raw):
        raise InstanceError(f"params.json, key {key}: expected a list of [student, opening] pairs")
    return tuple((str(a), str(b)) for a, b in raw)


def _floor(raw: Any, key: str) -> float | dict[str, float]:
    if isinstance(raw, int | float) and 0 <= raw <= 1:
        return float(raw)
    if isinstance(raw, dict) and all(isinstance(v, int | float) and 0 <= v <= 1 for v in raw.values()):
        return {str(k): float(v) for k, v in raw.items()}
    raise InstanceError(f"params.json, key {key}: expected a share in [0, 1] or an object of shares")


def read_instance(directory: Path) -> Instance:
    """Read an instance directory; raises :class:`InstanceError` naming the file, row and column."""
    params_path = directory / "params.json"
    if not directory.is_dir():
        raise InstanceError(f"{directory}: not a directory")
    try:
        raw = json.loads(params_path.read_text(encoding="utf-8")) if params_path.exists() else {}
    except json.JSONDecodeError as exc:
        raise InstanceError(f"params.json, line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise InstanceError("params.json: expected a JSON object")
    kind = raw.get("kind", "internship")
    if kind not in ("internship", "lecturer"):
        raise InstanceError(f"params.json, key kind: {kind!r} is not 'internship' or 'lecturer'")
    allowed = _INTERNSHIP_KEYS if kind == "internship" else _LECTURER_KEYS
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InstanceError(f"params.json: unknown key(s) {', '.join(unknown)} for kind {kind}")
    executor = str(raw.get("executor", "process"))
    if executor not in EXECUTORS:
        raise InstanceError(f"params.json, key executor: {executor!r} is not 'inline', 'process' or 'ray'")
    workers = raw.get("workers")
    partition_key = raw.get("partition_key", "province")
    if partition_key is not None and not (isinstance(partition_key, str) and partition_key.strip()):
        raise InstanceError("params.json, key partition_key: expected a column name of students.csv and "
                            "openings.csv, or null")
    try:
        time_limit = _real(raw, "time_limit_s", 60.0)
        seed = _whole(raw, "seed", 0)
        if kind == "lecturer":
            lecturer_params = LecturerParams(
                time_limit_s=time_limit, seed=seed,
                target_share=_real(raw, "target_share", 0.4),
                shortfall_penalty_per_hour=_whole(raw, "shortfall_penalty_per_hour", 1000),
                workers=_whole(raw, "workers", 2, low=1) if workers is not None else 2,
                deterministic=bool(raw.get("deterministic", False)))
            return Instance(kind, None, None, read_lecturer_problem(directory), lecturer_params, executor,
                            workers)
        if not isinstance(raw.get("quotas", []), list):
            raise InstanceError("params.json, key quotas: expected a list of {college, enterprise, max_students}")
        quotas = tuple(Quota(str(q["college"]), str(q["enterprise"]),
                             _whole(q, "max_students", 0, key=f"quotas, item {n}"))
                       for n, q in enumerate(raw.get("quotas", []), start=1))
        internship_params = InternshipParams(
            mode=Mode(raw.get("mode", "optimal")),
            proposer=Proposer(raw.get("proposer", "students")),
            time_limit_s=time_limit,
            seed=seed,
            college_floor=_floor(raw.get("college_floor", 0.0), "college_floor"),
            program_floor=_floor(raw.get("program_floor", 0.0), "program_floor"),
            quotas=quotas,
            default_quota=None if raw.get("default_quota") is None else _whole(raw, "default_quota", 0),
            locks=_pairs(raw.get("locks", []), "locks"),
            forbidden=_pairs(raw.get("forbidden", []), "forbidden"),
            fairness=bool(raw.get("fairness", False)),
            partition_key=partition_key,
            exact_max_pairs=_whole(raw, "exact_max_pairs", 5_000),
            lagrangian_iterations=_whole(raw, "lagrangian_iterations", 60),
            target_gap=_real(raw, "target_gap", 0.002),
            fallback_max_pairs=_whole(raw, "fallback_max_pairs", 200_000),
            price_of_stability=bool(raw.get("price_of_stability", True)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InstanceError):
            raise
        raise InstanceError(f"params.json: {exc}") from exc
    problem = read_internship_problem(directory, partition_key)
    _check_quotas(problem, directory, quotas)
    return Instance(kind, problem, internship_params, None, None, executor, workers)


def _whole(raw: Any, name: str, default: int, *, low: int = 0, key: str | None = None) -> int:
    """A whole number of params.json within the integer columns' range (a float such as 1e30 or a
    huge integer would wrap in the solvers' int64 arithmetic)."""
    value = raw.get(name, default) if isinstance(raw, dict) else default
    where = f"params.json, key {key + ', ' if key else ''}{name}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value != int(value):
        raise InstanceError(f"{where}: {value!r} is not a whole number")
    if not low <= value <= MAX_INT:
        raise InstanceError(f"{where}: {value!r} is out of range ({low} to {MAX_INT})")
    return int(value)


def _real(raw: dict[str, Any], name: str, default: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InstanceError(f"params.json, key {name}: {value!r} is not a finite number ≥ 0")
    return float(value)


def _check_quotas(problem: InternshipProblem, directory: Path, quotas: tuple[Quota, ...]) -> None:
    """A quota naming no college of students.csv or no enterprise of the instance is a typo, refused
    as a floor naming an unknown college is (it would otherwise silently bind nothing)."""
    colleges = set(problem.college_ids)
    enterprises = set(problem.enterprise_ids)
    enterprises_path = directory / "enterprises.csv"
    if enterprises_path.exists():
        enterprises |= {str(e) for e in read_table(enterprises_path, [("id", "str")])["id"]}
    for n, quota in enumerate(quotas, start=1):
        if quota.college not in colleges:
            raise InstanceError(f"params.json, key quotas, item {n}: unknown college {quota.college!r} "
                                "(not in students.csv)")
        if quota.enterprise not in enterprises:
            raise InstanceError(f"params.json, key quotas, item {n}: unknown enterprise {quota.enterprise!r} "
                                "(not in openings.csv or enterprises.csv)")


def _fmt(score: float) -> str:
    return repr(float(score))


def _number(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


INTERNSHIP_PLACEMENTS_HEADER = "student,opening,score"
LECTURER_PLACEMENTS_HEADER = "lecturer,course_need,score"


def placements_csv(header: str, rows: Iterable[tuple[str, str, float]]) -> str:
    """The text of ``placements.csv``: the one format both ``chanjiao solve`` and the batch runs'
    placements digest use, so a replayed run can be compared byte for byte."""
    return "\n".join([header, *(f"{a},{b},{_fmt(v)}" for a, b, v in rows)]) + "\n"


def _write_result_json(out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    (out / "result.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, allow_nan=False) + "\n",
                                     encoding="utf-8")
    return summary


def write_internship_result(out: Path, problem: InternshipProblem, params: InternshipParams,
                            result: InternshipResult) -> dict[str, Any]:
    """Write ``placements.csv`` (in student order, so byte-identical per seed) and ``result.json``."""
    out.mkdir(parents=True, exist_ok=True)
    placed = np.flatnonzero(result.assigned_pair >= 0)
    pairs = result.assigned_pair[placed]
    rows = ((problem.student_ids[s], problem.opening_ids[o], v)
            for s, o, v in zip(placed.tolist(), problem.pair_opening[pairs].tolist(),
                               problem.pair_score[pairs].tolist(), strict=True))
    (out / "placements.csv").write_text(placements_csv(INTERNSHIP_PLACEMENTS_HEADER, rows), encoding="utf-8")

    # The same figures a batch run stores (matching.allocation.kpis), per college by id.
    kpis = {row["college_id"]: {key: row[key] for key in ("students", "placed", "placement_rate", "mean_fit")}
            for row in internship_kpis(problem, result.assigned_pair)["colleges"]}
    summary: dict[str, Any] = {
        "kind": "internship",
        "mode": params.mode.value,
        "status": result.status.value,
        "objective": result.objective,
        "bound": result.bound,
        "gap": _number(result.gap),
        "total_fit": round(result.total_fit, 6),
        "wall_time_s": round(result.wall_time_s, 3),
        "method": result.method,
        "seed": params.seed,
        "counts": {"students": problem.n_students, "openings": problem.n_openings,
                   "candidate_pairs": problem.n_pairs, "seats": int(problem.opening_seats.sum()),
                   "placed": len(placed), "unplaced": problem.n_students - len(placed)},
        "colleges": kpis,
        "conflicts": list(result.conflicts),
        "stats": result.stats,
        "unplaced": [{"student": u.id, "college": u.group, "reasons": [r.value for r in u.reasons]}
                     for u in result.unplaced],
    }
    return _write_result_json(out, summary)


def write_lecturer_result(out: Path, problem: LecturerProblem, params: LecturerParams,
                          result: LecturerResult) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    placed = np.flatnonzero(result.assigned_pair >= 0)
    pairs = result.assigned_pair[placed]
    rows = ((problem.lecturer_ids[lec], problem.need_ids[n], v)
            for n, lec, v in zip(placed.tolist(), problem.pair_lecturer[pairs].tolist(),
                                 problem.pair_score[pairs].tolist(), strict=True))
    (out / "placements.csv").write_text(placements_csv(LECTURER_PLACEMENTS_HEADER, rows), encoding="utf-8")
    summary: dict[str, Any] = {
        "kind": "lecturer",
        "status": result.status.value,
        "objective": result.objective,
        "bound": result.bound,
        "gap": _number(result.gap),
        "total_fit": round(result.total_fit, 6),
        "wall_time_s": round(result.wall_time_s, 3),
        "seed": params.seed,
        "target_share": params.target_share,
        "counts": {"lecturers": len(problem.lecturer_ids), "course_needs": len(problem.need_ids),
                   "candidate_pairs": len(problem.pair_need), "placed": len(placed),
                   "unplaced": len(problem.need_ids) - len(placed)},
        "programs": {p: {"target_hours": result.target_hours[p], "taught_hours": result.taught_hours[p],
                         "shortfall_hours": result.shortfall_hours[p]} for p in sorted(result.target_hours)},
        "conflicts": list(result.conflicts),
        "unplaced": [{"course_need": u.id, "college": u.group, "reasons": [r.value for r in u.reasons]}
                     for u in result.unplaced],
    }
    return _write_result_json(out, summary)
