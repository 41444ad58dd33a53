"""The data the service ships (app/data), read from the repository for tests of real behaviour.

The tests read the files directly, as ``app.data`` does: ``matching`` itself never reads a file.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from matching.domain import CatalogEntry
from matching.scoring.jobtitles import TitleVocabulary

DATA = Path(__file__).resolve().parents[3] / "app" / "data"


@functools.cache
def shipped_title_vocabulary() -> TitleVocabulary:
    return TitleVocabulary.from_csv((DATA / "jobtitles" / "vocabulary.csv").read_text(encoding="utf-8"))


@functools.cache
def shipped_dadian() -> tuple[CatalogEntry, ...]:
    """All 大典 2022 细类 (name; definition + tasks; a repeated code keeps its first row)."""
    seen: set[str] = set()
    out: list[CatalogEntry] = []
    with (DATA / "occupations" / "occupations.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["level"] != "4" or r["code"] in seen:
                continue
            seen.add(r["code"])
            out.append(CatalogEntry(r["code"], r["name"], "\n".join(p for p in (r["definition"], r["tasks"]) if p)))
    return tuple(out)
