"""The seats partnerships hold in a run: what an order class or apprenticeship committed for the term.

A commitment binds while its partnership is agreed or active, for the enterprise's openings in the
run's scope, for the students of the partnership's programs (also when none of them is in the run).
When the partnership allows it (``release_unused``), the seats its students did not take go to
everyone in a supplementary round (round 2 and later): the first round gives the partner students
their chance, a later round fills what they left.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.db.models import RESERVING_FORMS, PartnershipForm
from app.repositories.partnerships import PartnershipRepository
from matching.allocation.partnership_hours import HoursCommitment
from matching.allocation.reservations import Commitment


def seat_commitments(session: Session, term: str, program_ids: Sequence[int], enterprise_ids: Sequence[int],
                     round_number: int) -> list[Commitment]:
    repo = PartnershipRepository(session)
    del program_ids  # the seats are held for the partner programs wherever they are
    found = []
    for partnership, commitment in repo.in_force(term, None, enterprise_ids):
        if commitment.reserved_seats <= 0 or not set(partnership.forms) & set(RESERVING_FORMS):
            continue
        if partnership.release_unused and round_number > 1:
            continue
        # Held whether or not the partner students are in this run's scope: a narrower run must not
        # hand the seats to others.
        programs = frozenset(str(p) for p in repo.partner_program_ids(partnership))
        if programs:
            found.append(Commitment(str(partnership.id), str(partnership.enterprise_id), programs,
                                    commitment.reserved_seats))
    return found


def hours_commitments(session: Session, term: str, enterprise_ids: Sequence[int]) -> list[HoursCommitment]:
    """Lecturer hours committed for ``term`` by partnerships in force of these enterprises."""
    repo = PartnershipRepository(session)
    return [HoursCommitment(str(p.id), str(p.enterprise_id), frozenset(str(i) for i in repo.partner_program_ids(p)),
                            t.lecturer_hours, PartnershipForm.INDUSTRY_COLLEGE.value in p.forms)
            for p, t in repo.in_force(term, None, enterprise_ids)
            if t.lecturer_hours > 0 or PartnershipForm.INDUSTRY_COLLEGE.value in p.forms]
