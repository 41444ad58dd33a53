"""Terms as people write them and as chanjiao stores them.

A term is stored as ``<year>-<season>`` (``2027-spring``); people write 2027年春季学期, 2027春,
Spring 2027 or 2027-Spring.  Every input path (API, imports, web forms) reads those spellings as
the stored one, so that one term is one scope, as with provinces.  秋季 is read as ``fall``, the
demo's spelling; an English ``autumn`` stays ``autumn`` (lower case), because rows already stored
with it must keep meaning the same scope.  A term in no such form (a college's own ``T1``) is kept
as written for the pattern of ``app.schemas.Term`` to judge.
"""

from __future__ import annotations

import re
from typing import Any

# Season → (Chinese, English) as pages show it.
SEASONS: dict[str, tuple[str, str]] = {
    "spring": ("春季", "Spring"), "summer": ("夏季", "Summer"), "fall": ("秋季", "Fall"),
    "autumn": ("秋季", "Autumn"), "winter": ("冬季", "Winter"),
}
_SEASON_OF = {
    "spring": "spring", "春": "spring", "春季": "spring",
    "summer": "summer", "夏": "summer", "夏季": "summer",
    "fall": "fall", "autumn": "autumn", "秋": "fall", "秋季": "fall",
    "winter": "winter", "冬": "winter", "冬季": "winter",
}
_SEASON = r"(spring|summer|autumn|fall|winter|春季?|夏季?|秋季?|冬季?)"
_YEAR_FIRST = re.compile(rf"^(\d{{4}})\s*年?\s*[-_ ]?\s*{_SEASON}\s*(?:学期|term|semester)?$", re.IGNORECASE)
_SEASON_FIRST = re.compile(rf"^{_SEASON}\s*(?:term|semester)?\s*[-_ ]?\s*(\d{{4}})$", re.IGNORECASE)


def season_year(term: str) -> tuple[str, str] | None:
    """(year, season) of a term in any of the spellings above, else None."""
    text = term.strip()
    found = _YEAR_FIRST.match(text)
    if found:
        return found.group(1), _SEASON_OF[found.group(2).lower()]
    found = _SEASON_FIRST.match(text)
    if found:
        return found.group(2), _SEASON_OF[found.group(1).lower()]
    return None


def normalise_term(value: Any) -> Any:
    """The stored spelling of a term written as people write it; anything else unchanged."""
    if not isinstance(value, str):
        return value
    parts = season_year(value)
    return f"{parts[0]}-{parts[1]}" if parts else value
