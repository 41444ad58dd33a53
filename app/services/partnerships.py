"""Partnerships (校企合作项目) and alliances: propose, agree, activate, end; read them.

A partnership's status moves only along ``PARTNERSHIP_TRANSITIONS`` (data, like the ledger's), each
move a conditional UPDATE from an allowed source status, so of two people agreeing and ending one
partnership at once exactly one wins and the other gets a 409.  Every move is audited once; nothing
is deleted (an ended partnership stays with its commitments, for the reports).  Who may move it:

- propose: the college's placement office or the enterprise's HR (or an admin), for its own side;
- agree: the other side (an admin too);
- activate, end: either side or an admin.

Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.db.models import (
    Alliance,
    AllianceMember,
    Partnership,
    PartnershipProgram,
    PartnershipStatus,
    PartnershipTerm,
    Role,
)
from app.errors import ChanjiaoError, Conflict, Forbidden, NotFound, field_error
from app.partnership_schemas import AllianceCreate, AllianceRead, PartnershipCreate, PartnershipRead
from app.repositories.access import AccessRepository
from app.repositories.entities import CollegeRepository, EnterpriseRepository, ProgramRepository
from app.repositories.partnerships import AllianceRepository, PartnershipRepository
from app.security import Principal

S = PartnershipStatus

PARTNERSHIP_TRANSITIONS: Mapping[PartnershipStatus, frozenset[PartnershipStatus]] = {
    S.PROPOSED: frozenset({S.AGREED, S.ENDED}),  # ended before agreement: declined or withdrawn
    S.AGREED: frozenset({S.ACTIVE, S.ENDED}),
    S.ACTIVE: frozenset({S.ENDED}),
}
# The statuses in which a partnership's commitments bind (reserved seats in allocation).
IN_FORCE = frozenset({S.AGREED, S.ACTIVE})
PARTY_ROLES = frozenset({Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR})


def partnership_sources(target: PartnershipStatus) -> frozenset[PartnershipStatus]:
    return frozenset(s for s, targets in PARTNERSHIP_TRANSITIONS.items() if target in targets)


def side_of(principal: Principal, partnership: Partnership) -> str | None:
    """'college' or 'enterprise' when the caller is that party of the partnership."""
    if principal.role is Role.PLACEMENT_OFFICE and principal.college_id == partnership.college_id:
        return "college"
    if principal.role is Role.ENTERPRISE_HR and principal.enterprise_id == partnership.enterprise_id:
        return "enterprise"
    return None


def partnership_read(row: Partnership) -> PartnershipRead:
    return PartnershipRead.model_validate({
        "id": row.id, "name": row.name, "college_id": row.college_id, "enterprise_id": row.enterprise_id,
        "program_ids": [p.program_id for p in row.programs], "forms": list(row.forms),
        "release_unused": row.release_unused, "status": row.status, "proposed_by": row.proposed_by,
        "description": row.description, "created_at": row.created_at, "updated_at": row.updated_at,
        "terms": [{"term": t.term, "reserved_seats": t.reserved_seats, "lecturer_hours": t.lecturer_hours,
                   "training_places": t.training_places} for t in row.terms]})


def alliance_read(row: Alliance) -> AllianceRead:
    return AllianceRead.model_validate({
        "id": row.id, "name": row.name, "kind": row.kind, "scheduler_actor_id": row.scheduler_actor_id,
        "created_at": row.created_at,
        "college_ids": sorted(m.college_id for m in row.members if m.college_id is not None),
        "enterprise_ids": sorted(m.enterprise_id for m in row.members if m.enterprise_id is not None)})


class PartnershipService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo = PartnershipRepository(session)
        self.audit = AccessRepository(session)

    # ------------------------------------------------------------------ reads

    def get(self, partnership_id: int) -> Partnership:
        row = self.repo.get(self.principal, partnership_id)
        if row is None:
            raise NotFound.of("partnership", partnership_id)
        return row

    def visible(self, *, status: PartnershipStatus | None = None, college_id: int | None = None,
                enterprise_id: int | None = None) -> list[Partnership]:
        filters = []
        if status is not None:
            filters.append(Partnership.status == status)
        if college_id is not None:
            filters.append(Partnership.college_id == college_id)
        if enterprise_id is not None:
            filters.append(Partnership.enterprise_id == enterprise_id)
        return self.repo.visible(self.principal, filters)

    # ------------------------------------------------------------------ propose

    def propose(self, body: PartnershipCreate) -> Partnership:
        side = self._proposing_side(body)
        if CollegeRepository(self.session).get(self.principal, body.college_id) is None:
            raise field_error("college_id", f"college {body.college_id} does not exist")
        if not EnterpriseRepository(self.session).exists(body.enterprise_id):
            raise field_error("enterprise_id", f"enterprise {body.enterprise_id} does not exist")
        programs = ProgramRepository(self.session)
        for index, program_id in enumerate(body.program_ids):
            college = programs.college_of(program_id)
            if college is None:
                raise field_error(f"program_ids.{index}", f"program {program_id} does not exist")
            if college != body.college_id:
                raise field_error(f"program_ids.{index}",
                                  f"program {program_id} belongs to another college than {body.college_id}")
        row = Partnership(
            name=body.name, college_id=body.college_id, enterprise_id=body.enterprise_id,
            forms=[f.value for f in body.forms], release_unused=body.release_unused, status=S.PROPOSED,
            proposed_by=side, description=body.description, created_by=self.principal.actor_id,
            programs=[PartnershipProgram(program_id=p) for p in body.program_ids],
            terms=[PartnershipTerm(term=t.term, reserved_seats=t.reserved_seats, lecturer_hours=t.lecturer_hours,
                                   training_places=t.training_places) for t in body.terms])
        self.repo.add(row)
        self.audit.record(self.principal.actor_id, "propose", "partnership", row.id,
                          {"to": S.PROPOSED.value, "side": side, "forms": row.forms})
        return row

    def _proposing_side(self, body: PartnershipCreate) -> str:
        role = self.principal.role
        if role is Role.ADMIN:
            return "college"
        if role is Role.PLACEMENT_OFFICE:
            if self.principal.college_id != body.college_id:
                raise Forbidden("a placement office proposes partnerships of its own college only")
            return "college"
        if role is Role.ENTERPRISE_HR:
            if self.principal.enterprise_id != body.enterprise_id:
                raise Forbidden("HR proposes partnerships of its own enterprise only")
            return "enterprise"
        raise Forbidden(f"role {role.value} may not propose partnerships")

    # ------------------------------------------------------------------ moves

    def agree(self, partnership_id: int) -> Partnership:
        row = self.get(partnership_id)
        side = side_of(self.principal, row)
        if not self.principal.is_admin:
            if side is None:
                raise Forbidden("only the partnership's parties agree to it")
            if side == row.proposed_by:
                raise Forbidden("the other party agrees to a proposal", code="partnership_own_proposal")
        return self._move(row, S.AGREED, "agree")

    def activate(self, partnership_id: int) -> Partnership:
        row = self.get(partnership_id)
        self._require_party(row)
        return self._move(row, S.ACTIVE, "activate")

    def end(self, partnership_id: int) -> Partnership:
        row = self.get(partnership_id)
        self._require_party(row)
        return self._move(row, S.ENDED, "end")

    def _require_party(self, row: Partnership) -> None:
        if not self.principal.is_admin and side_of(self.principal, row) is None:
            raise Forbidden("only the partnership's parties change it")

    def _move(self, row: Partnership, target: PartnershipStatus, action: str) -> Partnership:
        self.session.flush()
        source = row.status
        if not self.repo.move(row.id, partnership_sources(target), target):
            self.repo.refresh(row)
            raise Conflict(f"partnership {row.id} is {row.status.value}; it cannot become {target.value}",
                           extra={"partnership_id": row.id, "current_status": row.status.value},
                           code="partnership_state", params={"target": target.value})
        self.repo.refresh(row)
        self.audit.record(self.principal.actor_id, action, "partnership", row.id,
                          {"from": source.value, "to": target.value})
        return row


class AllianceService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo = AllianceRepository(session)
        self.audit = AccessRepository(session)

    def get(self, alliance_id: int) -> Alliance:
        row = self.repo.get(self.principal, alliance_id)
        if row is None:
            raise NotFound.of("alliance", alliance_id)
        return row

    def visible(self) -> list[Alliance]:
        return self.repo.visible(self.principal)

    def partnerships(self, alliance_id: int) -> list[Partnership]:
        self.get(alliance_id)
        return self.repo.partnerships_among(alliance_id)

    def create(self, body: AllianceCreate) -> Alliance:
        if self.principal.role not in (Role.ADMIN, Role.SCHEDULER):
            raise Forbidden(f"role {self.principal.role.value} may not create alliances")
        scheduler = body.scheduler_actor_id
        if self.principal.role is Role.SCHEDULER:
            if scheduler not in (None, self.principal.actor_id):
                raise Forbidden("a scheduler creates alliances it schedules itself")
            scheduler = self.principal.actor_id
        if scheduler is not None and not self.repo.is_scheduler(scheduler):
            raise field_error("scheduler_actor_id", f"actor {scheduler} is not a scheduler")
        if self.repo.by_name(body.name) is not None:
            raise Conflict(f"an alliance named {body.name!r} exists already", code="alliance_name")
        colleges, enterprises = CollegeRepository(self.session), EnterpriseRepository(self.session)
        for index, cid in enumerate(body.college_ids):
            if not colleges.exists(cid):
                raise field_error(f"college_ids.{index}", f"college {cid} does not exist")
        for index, eid in enumerate(body.enterprise_ids):
            if not enterprises.exists(eid):
                raise field_error(f"enterprise_ids.{index}", f"enterprise {eid} does not exist")
        row = Alliance(name=body.name, kind=body.kind, scheduler_actor_id=scheduler,
                       members=[AllianceMember(college_id=c) for c in body.college_ids]
                       + [AllianceMember(enterprise_id=e) for e in body.enterprise_ids])
        self.repo.add(row)
        self.audit.record(self.principal.actor_id, "create", "alliance", row.id,
                          {"colleges": len(body.college_ids), "enterprises": len(body.enterprise_ids)})
        return row


# --------------------------------------------------------------------------- import / export

# The statuses an imported partnership may have, reached through the transitions from "proposed".
_PATH_TO = {S.PROPOSED: (), S.AGREED: (S.AGREED,), S.ACTIVE: (S.AGREED, S.ACTIVE),
            S.ENDED: (S.AGREED, S.ACTIVE, S.ENDED)}


class PartnershipImportError(ValueError):
    """Rows of a partnership file that cannot be stored: each error names the row and the field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def export_document(session: Session, principal: Principal) -> dict[str, list[dict[str, object]]]:
    """Every alliance and partnership the caller reads, as the document ``import_document`` takes."""
    alliances = AllianceService(session, principal).visible()
    partnerships = PartnershipService(session, principal).visible()
    return {
        "alliances": [alliance_read(a).model_dump(mode="json", exclude={"id", "created_at"}) for a in alliances],
        "partnerships": [{**partnership_read(p).model_dump(mode="json", exclude={
            "id", "created_at", "updated_at", "proposed_by"})} for p in partnerships],
    }


def import_document(session: Session, principal: Principal, document: object) -> tuple[int, int]:
    """Store the alliances and partnerships of ``document`` (all or nothing: the caller's unit rolls
    back on an error).  Returns (alliances, partnerships) created."""
    if not isinstance(document, dict) or set(document) - {"alliances", "partnerships"}:
        raise PartnershipImportError(['the file holds an object with "alliances" and "partnerships" lists'])
    errors: list[str] = []
    service = PartnershipService(session, principal)
    created = [0, 0]
    for kind, items in (("alliances", document.get("alliances", [])), ("partnerships",
                                                                          document.get("partnerships", []))):
        if not isinstance(items, list):
            errors.append(f"{kind}: a list is expected")
            continue
        for index, item in enumerate(items):
            where = f"{kind}[{index}]"
            if not isinstance(item, dict):
                errors.append(f"{where}: an object is expected")
                continue
            try:
                with session.begin_nested():
                    if kind == "alliances":
                        AllianceService(session, principal).create(AllianceCreate.model_validate(item))
                        created[0] += 1
                    else:
                        fields = {k: v for k, v in item.items() if k != "status"}
                        target = S(item.get("status", S.PROPOSED.value))
                        row = service.propose(PartnershipCreate.model_validate(fields))
                        for step in _PATH_TO[target]:
                            service._move(row, step, "import")
                        created[1] += 1
            except ValidationError as exc:
                errors += [f"{where}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            except ChanjiaoError as exc:
                located = [".".join(str(p) for p in e.get("loc", [])[1:]) for e in exc.extra.get("errors") or []]
                errors.append(f"{where}{'.' + located[0] if located and located[0] else ''}: {exc.detail}")
            except ValueError as exc:  # an unknown status
                errors.append(f"{where}.status: {exc}")
    if errors:
        raise PartnershipImportError(errors)
    return created[0], created[1]
