"""Reference catalogues shipped inside the package: the MoE major catalogue and the 大典 2022.

The CSV files live in ``app/data`` (see the ATTRIBUTION.md beside each) and are read through
:mod:`importlib.resources`, so loading works the same from a checkout, a wheel or a zip.
Loading is an upsert by natural key — majors by (code, level), occupations by code — so it can be
run on every deployment: a second run changes nothing, and a corrected name in a newer file
updates the row in place without breaking the foreign keys that point at it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import EducationLevel, Major, Occupation
from app.repositories.reference import ReferenceRepository

MAJOR_FILES = ("majors.csv", "majors_addendum.csv")
OCCUPATION_FILE = "occupations.csv"
# The addendum rows come from the official catalogue document itself, not from the scraped pages.
ADDENDUM_SOURCE = "教育部《职业教育专业目录（2021年）》"
SCRAPED_SOURCE = "学信网专业知识库"

_LEVELS = {level.value: level for level in EducationLevel}

_MAJOR_FIELDS = ("name", "level", "category_code", "category_name", "class_code", "class_name", "source")
_OCCUPATION_FIELDS = ("level", "name", "definition", "tasks", "is_digital", "is_green")


@dataclass(frozen=True, slots=True)
class LoadCounts:
    inserted: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class CatalogLoadResult:
    majors: LoadCounts
    occupations: LoadCounts


def _read_csv(folder: str, filename: str) -> Iterator[dict[str, str]]:
    # Anchored on the regular package ``app.data`` so it resolves even when ``app`` is imported
    # as a namespace package (e.g. through a stale editable-install finder).
    resource = resources.files("app.data").joinpath(folder, filename)
    # utf-8-sig: tolerate a BOM if someone re-saves the file in a spreadsheet program.
    text = resource.read_text(encoding="utf-8-sig")
    yield from csv.DictReader(io.StringIO(text))


def major_rows() -> list[dict[str, Any]]:
    """The catalogue majors as column dicts for :class:`Major` (both files; later files win)."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for filename in MAJOR_FILES:
        for raw in _read_csv("majors", filename):
            level_name = raw["level"].strip()
            if level_name not in _LEVELS:
                raise ValueError(f"{filename}: unknown level {level_name!r} for major {raw['major_code']}")
            code = raw["major_code"].strip()
            url = (raw.get("chsi_detail_url") or "").strip()
            source = ADDENDUM_SOURCE if filename != MAJOR_FILES[0] else (url or SCRAPED_SOURCE)
            by_key[(code, level_name)] = {
                "code": code,
                "name": raw["major_name"].strip(),
                "level": _LEVELS[level_name],
                "category_code": raw["category_code"].strip(),
                "category_name": raw["category_name"].strip(),
                "class_code": raw["class_code"].strip(),
                "class_name": raw["class_name"].strip(),
                "source": source[:200],
            }
    return list(by_key.values())


def occupation_rows() -> list[dict[str, Any]]:
    """All four levels of the 大典 (大类, 中类, 小类, 细类) as column dicts for :class:`Occupation`."""
    rows: dict[str, dict[str, Any]] = {}
    for raw in _read_csv("occupations", OCCUPATION_FILE):
        code = raw["code"].strip()
        rows[code] = {
            "code": code,
            "level": int(raw["level"]),
            "name": raw["name"].strip(),
            "definition": (raw.get("definition") or "").strip(),
            "tasks": (raw.get("tasks") or "").strip(),
            "is_digital": raw.get("is_digital_S", "").strip().upper() == "Y",
            "is_green": raw.get("is_green_L", "").strip().upper() == "Y",
        }
    return list(rows.values())


def _load_majors(session: Session) -> LoadCounts:
    repo = ReferenceRepository(session)
    existing = {(m.code, m.level.value): m for m in repo.all_majors()}
    to_insert: list[dict[str, Any]] = []
    to_update: list[dict[str, Any]] = []
    unchanged = 0
    for row in major_rows():
        current = existing.get((row["code"], row["level"].value))
        if current is None:
            to_insert.append(row)
        elif any(getattr(current, f) != row[f] for f in _MAJOR_FIELDS):
            to_update.append({"id": current.id, **{f: row[f] for f in _MAJOR_FIELDS}})
        else:
            unchanged += 1
    repo.insert_many(Major, to_insert)
    repo.update_many(Major, to_update)
    session.flush()
    return LoadCounts(inserted=len(to_insert), updated=len(to_update), unchanged=unchanged)


def _load_occupations(session: Session) -> LoadCounts:
    repo = ReferenceRepository(session)
    existing = {o.code: o for o in repo.all_occupations()}
    to_insert: list[dict[str, Any]] = []
    to_update: list[dict[str, Any]] = []
    unchanged = 0
    for row in occupation_rows():
        current = existing.get(row["code"])
        if current is None:
            to_insert.append(row)
        elif any(getattr(current, f) != row[f] for f in _OCCUPATION_FIELDS):
            to_update.append(row)
        else:
            unchanged += 1
    repo.insert_many(Occupation, to_insert)
    repo.update_many(Occupation, to_update)
    session.flush()
    return LoadCounts(inserted=len(to_insert), updated=len(to_update), unchanged=unchanged)


def load_catalog(session: Session) -> CatalogLoadResult:
    """Upsert the shipped majors and occupations.  Flushes; the caller commits."""
    return CatalogLoadResult(majors=_load_majors(session), occupations=_load_occupations(session))
