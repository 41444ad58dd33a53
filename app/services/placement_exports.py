"""Placements as a spreadsheet people read: the student (学号, and 姓名 for their own college), the
opening (its code and title), the enterprise, city, status in words, the round and the 三方协议.

Rows are those the caller's pages show (published runs, the caller's own placements: a college's
students, an enterprise's openings), through ``PlacementViews``, so the export has the tenancy of
the page it is downloaded from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import PlacementStatus, Role
from app.security import Principal
from app.services.columns import column_set, status_labels
from app.services.placement_views import PlacementViews

_PAGE = 5_000


def placement_table(session: Session, principal: Principal, locale: str | None, *,
                    statuses: Sequence[PlacementStatus] = (), program_id: int | None = None
                    ) -> tuple[list[str], list[list[Any]]]:
    """The header (in ``locale``) and the rows of the caller's published internship placements."""
    views = PlacementViews(session, principal)
    columns = column_set("placements").template_columns()
    if principal.role not in (Role.PLACEMENT_OFFICE, Role.ADMIN):
        # A student's name is personal data: an enterprise's export carries the number only.
        columns = [c for c in columns if c.field != "student_name"]
    words = status_labels("zh_CN" if (locale or "").lower().startswith("zh") else "en")
    rows: list[list[Any]] = []
    offset = 0
    while True:
        page = views.published(statuses=statuses, program_id=program_id, limit=_PAGE, offset=offset)
        for item in page:
            status = item["status"].value if isinstance(item["status"], PlacementStatus) else str(item["status"])
            values = {**item, "status": words.get(status, status)}
            rows.append([values.get(column.field) for column in columns])
        if len(page) < _PAGE:
            break
        offset += _PAGE
    return [column.header(locale) for column in columns], rows
