"""OpenAPI operation ids: ``<tag>_<action>``, such as ``openings_create`` or ``allocation_runs_publish``.

Generated clients name their functions and modules after operation ids; FastAPI's default
(``create_row_api_v1_openings_post``) repeats the path and the method and changes whenever a route
moves.  The id here is the route's tag (its noun, which clients also use to group operations) and
the endpoint function's name with that noun and the generic ``row`` taken out, so it is stable
under a change of prefix or path and readable in any client.  Set once, on the application.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id

# Words that say nothing about what an operation does: "create_row" is "create".
_GENERIC = frozenset({"row", "rows"})


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _forms(word: str) -> set[str]:
    """A tag's word and its singulars ("runs" → "run", "matches" → "match")."""
    forms = {word}
    if word.endswith("s"):
        forms.add(word[:-1])
    if word.endswith("es"):
        forms.add(word[:-2])
    return forms


def operation_id(route: APIRoute) -> str:
    if not route.tags:
        # Untagged routes are the web pages, which stay out of the schema.
        return generate_unique_id(route)
    noun = _words(str(route.tags[0]))
    taken = _GENERIC.union(*(_forms(w) for w in noun))
    action = [w for w in _words(route.name) if w not in taken]
    return "_".join(noun + action)
