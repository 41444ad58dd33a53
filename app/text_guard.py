"""Control characters in text: refused wherever text enters, the same on every database.

PostgreSQL cannot store NUL in a text column at all (the driver raises before the query runs),
SQLite stores it and every later reader trips over it; other control characters have no place in
names, codes or descriptions either.  Tab, line feed and carriage return stay allowed: descriptions
have lines, and a spreadsheet cell may hold them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Unicode category Cc (C0, DEL and C1) except \t, \n and \r.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MESSAGE = "must not contain control characters (such as NUL)"


def has_control_characters(value: Any) -> bool:
    """Whether a string, or any string inside lists and mappings (keys included), holds one."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.search(value) is not None
    if isinstance(value, Mapping):
        return any(has_control_characters(k) or has_control_characters(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_control_characters(item) for item in value)
    return False


def first_with_control_characters(pairs: Iterable[tuple[str, Any]]) -> str | None:
    """The name of the first (name, value) pair whose name or value holds a control character."""
    for name, value in pairs:
        if has_control_characters(name) or has_control_characters(value):
            return name
    return None
