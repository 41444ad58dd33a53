from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.repositories.reference import ReferenceRepository


def database_reachable(session: Session) -> bool:
    try:
        ReferenceRepository(session).ping()
    except SQLAlchemyError:
        return False
    return True
