"""An alliance as a run's scope: its member colleges and enterprises become the scope's lists.

Stored runs keep ``alliance_id`` in their scope (and in the scope key, so the alliance's runs compete
with each other, not with a plain province run); every reader of a run's scope resolves it here, so
the solve, the publication's re-check and the reports see the same parties.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.repositories.partnerships import AllianceRepository
from app.run_schemas import RunScope


def resolve_scope(session: Session, scope: RunScope) -> RunScope:
    """``scope`` with an alliance's members as its college and enterprise lists (intersected with
    lists the scope names itself).  Unchanged without an alliance."""
    if scope.alliance_id is None:
        return scope
    colleges, enterprises = AllianceRepository(session).member_ids(scope.alliance_id)
    if scope.college_ids:
        colleges = sorted(set(colleges) & set(scope.college_ids))
    if scope.enterprise_ids:
        enterprises = sorted(set(enterprises) & set(scope.enterprise_ids))
    if not colleges or not enterprises:
        # An empty list means "everywhere" to the loaders: an alliance never widens a scope.
        raise Unprocessable(f"alliance {scope.alliance_id} has no member colleges or enterprises in this scope",
                            [{"loc": ["body", "scope", "alliance_id"], "msg": "no members in scope"}],
                            code="alliance_empty")
    return scope.model_copy(update={"college_ids": colleges, "enterprise_ids": enterprises})
