"""Display names of values that come from code (features, statuses, reasons), for the catalogues."""

from __future__ import annotations

from app.web.core import N_

FEATURES = {
    "text_similarity": N_("Text similarity"),
    "target_major": N_("Target major"),
    "same_major_class": N_("Same major class (专业类)"),
    "same_major_category": N_("Same major category (专业大类)"),
    "history_placements": N_("Past placements"),
    "history_success": N_("Past success"),
    "level_ineligible": N_("Level not eligible"),
    "same_city": N_("Same city"),
    "same_province": N_("Same province"),
    "past_cooperation": N_("Past cooperation"),
    "skill_overlap": N_("Skill overlap"),
    "grade": N_("Grade"),
    "preference": N_("Stated preference"),
    "expertise_similarity": N_("Expertise similarity"),
    "topic_overlap": N_("Topic overlap"),
    "slot_overlap": N_("Time slot overlap"),
}

STATUSES = [N_("queued"), N_("running"), N_("succeeded"), N_("infeasible"), N_("no_solution_in_time"),
            N_("failed"), N_("cancelled"), N_("proposed"), N_("published"), N_("accepted"), N_("declined"),
            N_("confirmed"), N_("completed"), N_("superseded"), N_("withdrawn"), N_("internship"), N_("lecturer"),
            N_("optimal"), N_("stable"),
            N_("admin"), N_("scheduler"), N_("placement_office"), N_("enterprise_hr")]


# Why a student ended without a placement (matching.allocation.problem.UnplacedReason), in words.
UNPLACED_REASONS = {
    "full": N_("every opening that fits was full"),
    "ineligible": N_("no opening that fits may take this student (专业大类, level or a forbidden pair)"),
    "not_ranked": N_("the student ranked none of the openings that still had room"),
    "quota": N_("the college's quota at the fitting enterprises was reached"),
    "no_candidates": N_("too little in the student's profile to be matched (add skills or certificates)"),
    "reserved": N_("the seats left at a fitting opening are held for a partnership's students (订单班, 现代学徒制)"),
}


def unplaced_reason(code: str) -> str:
    return UNPLACED_REASONS.get(code, code)


def feature_label(name: str) -> str:
    return FEATURES.get(name, name)


# The phases of an allocation run (app/services/allocation_job.PHASES).
PHASES = [N_("load"), N_("candidates"), N_("solve"), N_("check"), N_("store")]

KINDS = [N_("students"), N_("openings"), N_("lecturers"), N_("course-needs")]


def _install() -> None:
    from app.web.charts import contribution_shares, share_text
    from app.web.core import env

    env.globals["feature_label"] = feature_label
    env.globals["unplaced_reason"] = unplaced_reason
    env.globals["contribution_shares"] = contribution_shares
    env.globals["share_text"] = share_text


_install()


TOTALS = [N_("students"), N_("placed"), N_("placement_rate"), N_("seats"), N_("mean_fit"), N_("course_needs"),
          N_("covered"), N_("coverage"), N_("target_share"), N_("shortfall_hours")]
