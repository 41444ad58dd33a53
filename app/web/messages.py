"""Error messages in the reader's language.

Validation errors are translated from their pydantic error type and its context (the limits), never
from the English text; service errors from their ``code`` and ``params`` (``app.errors``).  An
error without a known code keeps its English detail in the English UI; the Chinese UI shows a
translated general sentence instead, so no page in zh-CN shows English validator text.
"""

from __future__ import annotations

from typing import Any

from app.errors import ChanjiaoError
from app.web.i18n import Gettext


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    return message


# pydantic error type → message; %(name)s takes the error's context (ge, max_length, ...).
VALIDATION: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "string_pattern_mismatch": N_("This value has the wrong format."),
    "string_type": N_("Enter text."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "finite_number": N_("Enter a finite number."),
    "greater_than_equal": N_("Enter a number of at least %(ge)s."),
    "greater_than": N_("Enter a number greater than %(gt)s."),
    "less_than_equal": N_("Enter a number of at most %(le)s."),
    "less_than": N_("Enter a number less than %(lt)s."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
    "enum": N_("Choose one of the offered values."),
    "literal_error": N_("Choose one of the offered values."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_type": N_("Enter a date as YYYY-MM-DD."),
    "too_long": N_("Give at most %(max_length)s items."),
    "too_short": N_("Give at least %(min_length)s items."),
    "list_type": N_("Give a list of values."),
    "json_invalid": N_("This value is not valid JSON."),
    # Not pydantic's: a unique value the database refused (the web forms name the field).
    "student_no_taken": N_("This student number is already used in this program."),
}
# Fields whose format a pattern checks: what to type instead of the pattern itself.
FORMAT_HINTS: dict[str, str] = {
    "term": N_("Use up to 20 letters, digits, “-” or “_”, for example 2027-spring."),
    "occupation_code": N_("Use a code of the 职业分类大典, for example 4-04-05-01."),
    "major_code": N_("Use a six-digit major code of the catalogue, for example 510205."),
    "slots": N_("Use a weekday and a period, for example mon1 or thu3."),
    "available_slots": N_("Use a weekday and a period, for example mon1 or thu3."),
}
GENERIC = N_("This value is not accepted.")

# Service error codes (ChanjiaoError.code) → message with the error's params.
SERVICE: dict[str, str] = {
    "wrong_role": N_("This page is not for your role."),
    "not_yours": N_("This belongs to another enterprise."),
    "control_characters": N_("The text must not contain control characters (such as NUL)."),
    "not_found": N_("%(entity)s %(id)s was not found, or is not yours to see."),
    "run_state": N_("Run %(run_id)s is %(current_status)s; it cannot become %(target)s."),
    "placement_state": N_("Placement %(placement_id)s is %(current_status)s; it cannot become %(target)s."),
    "no_free_seat": N_("Opening %(opening_id)s has no free seat (%(filled)s of %(seats)s taken)."),
    "lecturer_hours": N_("Lecturer %(lecturer_id)s would teach %(hours)s weekly hours, more than the %(max)s "
                         "available."),
    "scope_published": N_("This scope already has a published allocation (run %(current_run_id)s). Run a "
                          "supplementary round after it, or withdraw it while nobody has answered."),
    "not_current_round": N_("Run %(run_id)s is not the current published round of its scope."),
    "run_has_answers": N_("Run %(run_id)s already has %(answered)s answers; withdraw single placements instead."),
    "publication_stale": N_("Run %(run_id)s no longer fits today's data (%(reason_count)s reasons); run it again."),
    "active_run": N_("Run %(active_run_id)s is already queued or running for this scope."),
    "record_kept": N_("This %(entity)s is part of the placement record and cannot be deleted."),
    "seats_below_filled": N_("This opening has %(filled_seats)s accepted placements; its seats cannot be cut "
                             "to %(seats)s."),
    "hours_below_live": N_("This lecturer teaches %(live_hours)s weekly hours on accepted placements; the hours "
                           "cannot be cut below that."),
    "student_placed": N_("This student holds placement %(placement_id)s (%(current_status)s); withdraw or decline it "
                         "before moving the student to another program."),
    "ledger_conflict": N_("The change conflicts with the placement record; reload the page and try again."),
    "opening_code_taken": N_("Your enterprise already has an opening with the code %(code)s."),
    "partnership_state": N_("Partnership %(partnership_id)s is %(current_status)s; it cannot become %(target)s."),
    "partnership_own_proposal": N_("The other party agrees to a proposal, not the one who made it."),
    "alliance_empty": N_("This alliance has no member colleges or enterprises in the scope."),
    "alliance_name": N_("An alliance of this name exists already."),
}
# Problems of an import's rows and header (RowError.code, app/services/imports.py).
IMPORT: dict[str, str] = {
    "import_unknown_column": N_("Unknown column. The columns of this file are: %(columns)s."),
    "import_duplicate_column": N_("The column appears twice (also as %(other)s)."),
    "import_unnamed_column": N_("Column %(position)s has no name."),
    "import_missing_column": N_("This required column is missing."),
    "import_outside_columns": N_("A cell of this row is outside every named column."),
    "import_missing_value": N_("This field is required."),
    "import_duplicate_row": N_("This row repeats row %(other)s."),
    "import_exists": N_("This %(entity)s already exists. Import in update mode to change it."),
    "import_key_missing": N_("Update mode finds rows by this column, and it is empty."),
    "import_key_ambiguous": N_("%(count)s rows of this %(entity)s match; change them one by one."),
    "import_not_found": N_("“%(value)s” names no %(entity)s you may use."),
    "import_ambiguous": N_("“%(value)s” names %(count)s records (%(candidates)s); add the column %(hint)s to choose."),
    "import_ambiguous_opening": N_("%(value)s is the code of openings of %(candidates)s; write it as "
                                   "enterprise/%(value)s."),
    "import_not_own": N_("You may only import rows of your own %(entity)s."),
    "opening_code_taken": N_("Your enterprise already has an opening with the code %(code)s."),
}
# Reasons a publication is refused (matching.allocation.recheck codes).
REASONS: dict[str, str] = {
    "seats_exceeded": N_("%(opening)s: %(offers)s offers and %(live)s accepted placements, %(seats)s seats now."),
    "enterprise_cap_exceeded": N_("Enterprise %(enterprise)s: %(offers)s offers and %(live)s accepted placements, "
                                  "at most %(cap)s interns."),
    "student_placed_elsewhere": N_("Student %(student)s already holds placement %(placement)s."),
    "pair_refused": N_("Student %(student)s declined %(opening)s in an earlier round."),
    "student_out_of_scope": N_("Student %(student)s is no longer in the run's scope."),
    "opening_out_of_scope": N_("%(opening)s is no longer in the run's term or scope."),
    "category_mismatch": N_("%(opening)s no longer admits the 专业大类 of student %(student)s."),
    "answered_since_solve": N_("%(count)s placements of earlier rounds were accepted after this round was solved."),
    "opening_gone": N_("Opening %(opening)s no longer exists."),
    "student_gone": N_("Student %(student)s no longer exists."),
    "stale": N_("Something this run relied on was deleted after the solve."),
    "hours_exceeded": N_("Lecturer %(lecturer)s: %(offered)s offered and %(live)s accepted weekly hours, %(max)s "
                         "available now."),
    "course_need_out_of_scope": N_("%(course_need)s is no longer in the run's term or scope."),
    "lecturer_out_of_scope": N_("Lecturer %(lecturer)s is no longer in the scope."),
    "party_gone": N_("A course need or lecturer of this run no longer exists."),
    "reserved_seats_taken": N_("%(opening)s: %(held)s students outside partnership %(partnership)s would hold more "
                               "than the %(free)s seats it does not reserve."),
}


# Values a sentence names that are themselves words of the catalogue (statuses, nouns).
ENTITIES = [N_("allocation run"), N_("placement"), N_("student"), N_("opening"), N_("lecturer"), N_("course-need"),
            N_("program"), N_("college"), N_("enterprise"), N_("course need"), N_("partnership"), N_("alliance"),
            N_("agreed"), N_("active"), N_("ended")]
_WORD_PARAMS = ("current_status", "target", "entity")


def _fill(g: Gettext, template: str, params: dict[str, Any]) -> str:
    params = {k: g.gettext(v) if k in _WORD_PARAMS and isinstance(v, str) else v for k, v in params.items()}
    text = g.gettext(template)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text.split("%(")[0].rstrip(" :（(") or text


def validation_message(g: Gettext, error: dict[str, Any]) -> str:
    """One pydantic error (``type``, ``loc``, ``ctx``, ``msg``) as a sentence in ``g``'s language."""
    kind = str(error.get("type", ""))
    field = next((str(p) for p in reversed(error.get("loc", ())) if isinstance(p, str)), "")
    if kind == "string_pattern_mismatch" and field in FORMAT_HINTS:
        return g.gettext(FORMAT_HINTS[field])
    if kind == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
        return g.gettext(VALIDATION["missing"])
    if kind in VALIDATION:
        return _fill(g, VALIDATION[kind], dict(error.get("ctx") or {}))
    if g.locale == "en" and error.get("msg"):
        return str(error["msg"]).removeprefix("Value error, ")
    return g.gettext(GENERIC)


def service_message(g: Gettext, exc: ChanjiaoError) -> str:
    """A service error in ``g``'s language: by its code, else its English detail (English UI) or a
    translated general sentence."""
    if exc.code in SERVICE:
        return _fill(g, SERVICE[exc.code], {**exc.extra, **exc.params})
    if g.locale == "en":
        return exc.detail
    return g.gettext(GENERIC)


def row_error_message(g: Gettext, error: Any) -> str:
    """One bad row or header cell of an import report (``RowError``) in ``g``'s language."""
    code, params = error.code, dict(error.params or {})
    if code in IMPORT:
        return _fill(g, IMPORT[code], params)
    if code in SERVICE:
        return _fill(g, SERVICE[code], params)
    if error.type:
        return validation_message(g, {"type": error.type, "loc": [error.field or ""], "ctx": params,
                                      "msg": error.message})
    if g.locale == "en":
        return str(error.message)
    return g.gettext(GENERIC)


def reason_messages(g: Gettext, reasons: list[dict[str, Any]]) -> list[str]:
    """The coded reasons a publication was refused, each in ``g``'s language."""
    out = []
    for reason in reasons:
        code = str(reason.get("code", ""))
        if code in REASONS:
            out.append(_fill(g, REASONS[code], dict(reason.get("params") or {})))
        elif g.locale == "en":
            out.append(str(reason.get("message", "")))
        else:
            out.append(g.gettext(GENERIC))
    return out


__all__ = ["reason_messages", "row_error_message", "service_message", "validation_message"]
