"""Form fields ↔ the API's input schemas, and their errors ↔ messages beside the fields."""

from __future__ import annotations

import html
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from app.errors import Unprocessable
from app.web.i18n import Gettext
from app.web.messages import service_message, validation_message

# The separators people type in one box of a list (skills, codes): ASCII or full-width.
_SEPARATORS = (";", "；", ",", "，", "\n")


def split_list(text: str) -> list[str]:
    for sep in _SEPARATORS[1:]:
        text = text.replace(sep, _SEPARATORS[0])
    return [part.strip() for part in text.split(_SEPARATORS[0]) if part.strip()]


def join_list(values: list[Any] | None) -> str:
    return "; ".join(str(v) for v in values or [])


def form_values(form: FormData, *, lists: tuple[str, ...] = (), multi: tuple[str, ...] = (),
                optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The submitted fields as the schema wants them: lists split, empty optional fields dropped."""
    values: dict[str, Any] = {}
    for name in {*form.keys()}:
        if name == "csrf_token" or name.startswith("_"):
            continue
        if name in multi:
            values[name] = [v for v in form.getlist(name) if isinstance(v, str) and v]
            continue
        raw = form.get(name)
        if isinstance(raw, UploadFile) or raw is None:
            continue
        if name in lists:
            values[name] = split_list(raw)
        elif raw.strip() == "" and name in optional:
            values[name] = None
        else:
            values[name] = raw
    for name in multi:
        values.setdefault(name, [])
    return values


def field_errors(exc: ValidationError | Unprocessable, g: Gettext) -> dict[str, str]:
    """Field name → message in the reader's language; the form shows each beside its field
    (``__all__`` above the form).  A nested location (``parameters.time_limit_s``) names the form
    field by its last part."""
    out: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        items: list[dict[str, Any]] = [dict(e) for e in exc.errors(include_input=False, include_url=False)]
        for item in items:
            names = [str(part) for part in item.get("loc", ()) if isinstance(part, str) and part != "body"]
            out.setdefault(names[-1] if names else "__all__", validation_message(g, item))
        return out
    extra: list[dict[str, Any]] = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
    for item in extra:
        names = [str(part) for part in item.get("loc", ()) if isinstance(part, str) and part != "body"]
        out.setdefault(names[-1] if names else "__all__", validation_message(g, item))
    if not out:
        out["__all__"] = service_message(g, exc)
    return out


def validate(schema: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    return schema.model_validate(values)


_LABEL = r"""<label\b[^>]*\bfor="{id}"[^>]*>(.*?)</label>"""
_LEGEND = r"""<fieldset\b[^>]*\bid="{id}"[^>]*>\s*<legend\b[^>]*>(.*?)</legend>"""
_TAGS = re.compile(r"<[^>]*>")


def error_links(errors: dict[str, str], body: str) -> list[tuple[str, str, str]]:
    """The error summary's entries (link target, field name as its label says, message) for a form
    whose rendered ``body`` holds the fields: each field ``NAME`` has the id ``f-NAME`` (the
    ``field`` macro's), named by its ``<label for>`` or, for a group, its fieldset's ``<legend>``.
    A field the form does not show (an error of the whole form) links to the summary itself."""
    out = []
    for name, message in errors.items():
        if name == "__all__":
            continue
        target = f"f-{name}"
        found = (re.search(_LABEL.format(id=re.escape(target)), body, re.DOTALL)
                 or re.search(_LEGEND.format(id=re.escape(target)), body, re.DOTALL))
        if found is None and f'id="{target}"' not in body:
            out.append(("#error-summary", name, message))
            continue
        label = " ".join(_TAGS.sub(" ", found.group(1)).split()).rstrip(" *") if found else name
        # The label is the template's escaped output: unescape it once, the summary escapes it again.
        out.append((f"#{target}", html.unescape(label), message))
    return out
