"""Form fields ↔ the API's input schemas, and their errors ↔ messages beside the fields."""

from __future__ import annotations

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
