"""Queries with tenant isolation built in.

Every query of the service lives in this package.  A repository knows, for its model, which
college or enterprise owns a row, and filters every read by the caller's tenancy, so that a
service cannot forget to: another tenant's private row is simply not found.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, false, func, insert, inspect, or_, select, true
from sqlalchemy.orm import Session

from app.db.base import Base
from app.db.models import Role
from app.errors import Unprocessable
from app.schemas import MAX_ID
from app.security import Principal
from app.text_guard import has_control_characters

ModelT = TypeVar("ModelT", bound=Base)
T = TypeVar("T")

OwnerFilter = Callable[[int], ColumnElement[bool]]
SharedFilter = Callable[[Principal], ColumnElement[bool]]


@dataclass(frozen=True)
class Tenancy:
    """How rows of one model belong to tenants.

    ``by_college`` / ``by_enterprise`` build the condition "row belongs to tenant N".
    ``private`` rows are readable only by their owners, by the roles in ``sees_all`` (admins
    always) and, where ``shared_with`` says so, by a non-owner the row was shared with (a lecturer
    with the college it was placed with); public rows by every authenticated caller.
    ``readers`` are the roles that may read at all.
    """

    by_college: OwnerFilter | None = None
    by_enterprise: OwnerFilter | None = None
    private: bool = False
    readers: frozenset[Role] = frozenset(Role)
    sees_all: frozenset[Role] = frozenset({Role.ADMIN})
    shared_with: SharedFilter | None = None

    def owned_by(self, principal: Principal) -> ColumnElement[bool]:
        if principal.role is Role.ADMIN:
            return true()
        if principal.role is Role.PLACEMENT_OFFICE and self.by_college and principal.college_id is not None:
            return self.by_college(principal.college_id)
        if principal.role is Role.ENTERPRISE_HR and self.by_enterprise and principal.enterprise_id is not None:
            return self.by_enterprise(principal.enterprise_id)
        return false()

    def readable_by(self, principal: Principal) -> ColumnElement[bool]:
        if principal.role not in self.readers:
            return false()
        if not self.private or principal.role in self.sees_all:
            return true()
        if self.shared_with is not None:
            return or_(self.owned_by(principal), self.shared_with(principal))
        return self.owned_by(principal)


@dataclass(frozen=True)
class Page(Generic[ModelT]):
    items: Sequence[ModelT]
    next_cursor: str | None


def encode_cursor(last: int | str) -> str:
    kind = "id" if isinstance(last, int) else "key"
    return base64.urlsafe_b64encode(f"{kind}:{last}".encode()).decode().rstrip("=")


def _decode(cursor: str, expected_kind: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != expected_kind or not value:
            raise ValueError(kind)
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Unprocessable("invalid cursor", [{"loc": ["query", "cursor"], "msg": "not a cursor"}]) from exc


def decode_cursor(cursor: str) -> int:
    value = _decode(cursor, "id")
    # isdigit() alone admits "²" and other Unicode digits that int() refuses; the bound keeps a
    # forged id from overflowing the integer column.
    if not (value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_ID):
        raise Unprocessable("invalid cursor", [{"loc": ["query", "cursor"], "msg": "not a cursor"}])
    return int(value)


def decode_key_cursor(cursor: str) -> str:
    value = _decode(cursor, "key")
    if has_control_characters(value):
        raise Unprocessable("invalid cursor", [{"loc": ["query", "cursor"], "msg": "not a cursor"}])
    return value


_MEMO = "chanjiao_memoized_lookups"


@contextmanager
def memoized_lookups(session: Session) -> Iterator[None]:
    """Within it, the session answers each lookup of a referenced row (does it exist, who owns
    it) once: checking a file of many rows that name a few programs reads each program once.
    Only for work that reads: a write could change an answer already given."""
    session.info[_MEMO] = {}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


def lookup_memo(session: Session) -> dict[Hashable, Any] | None:
    """The answers given so far inside ``memoized_lookups``, or None outside it."""
    return session.info.get(_MEMO)


def memoized(session: Session, key: Hashable, lookup: Callable[[], T]) -> T:
    memo = lookup_memo(session)
    if memo is None:
        return lookup()
    if key not in memo:
        memo[key] = lookup()
    return memo[key]  # type: ignore[no-any-return]


class Repository(Generic[ModelT]):
    """Reads and writes of one model, always through the caller's tenancy."""

    model: type[ModelT]
    tenancy: Tenancy

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _id_column(self) -> Any:
        return self.model.id  # type: ignore[attr-defined]

    def get(self, principal: Principal, object_id: int) -> ModelT | None:
        stmt = select(self.model).where(self._id_column == object_id, self.tenancy.readable_by(principal))
        return self.session.scalars(stmt).one_or_none()

    def get_owned(self, principal: Principal, object_id: int) -> ModelT | None:
        stmt = select(self.model).where(self._id_column == object_id, self.tenancy.owned_by(principal))
        return self.session.scalars(stmt).one_or_none()

    def exists(self, object_id: int) -> bool:
        return bool(memoized(self.session, ("exists", self.model, object_id), lambda: self.session.scalar(
            select(func.count()).select_from(self.model).where(self._id_column == object_id))))

    def list_page(
        self,
        principal: Principal,
        filters: Sequence[ColumnElement[bool]],
        *,
        limit: int,
        cursor: str | None,
    ) -> Page[ModelT]:
        stmt = select(self.model).where(self.tenancy.readable_by(principal), *filters)
        if cursor:
            stmt = stmt.where(self._id_column > decode_cursor(cursor))
        rows = list(self.session.scalars(stmt.order_by(self._id_column).limit(limit + 1)))
        next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None  # type: ignore[attr-defined]
        return Page(items=rows[:limit], next_cursor=next_cursor)

    def add(self, row: ModelT) -> ModelT:
        self.session.add(row)
        self.session.flush()
        return row

    def add_many(self, rows: Sequence[ModelT]) -> None:
        """Inserts new rows in batched statements and sets their ids.  The rows stay outside the
        session: tracking each in the unit of work costs several times the INSERT itself."""
        if not rows:
            return
        columns = [attr.key for attr in inspect(self.model).column_attrs]
        values = [{key: row.__dict__[key] for key in columns if key in row.__dict__} for row in rows]
        stmt = insert(self.model).returning(self._id_column, sort_by_parameter_order=True)
        for row, new_id in zip(rows, self.session.scalars(stmt, values), strict=True):
            row.id = new_id  # type: ignore[attr-defined]

    def delete(self, row: ModelT) -> None:
        self.session.delete(row)
        self.session.flush()
