"""Reference data shipped with the package (read with importlib.resources; see each ATTRIBUTION.md)."""
from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matching.scoring.jobtitles import JobTitleExpander, TitleVocabulary

TITLE_VOCABULARY = "jobtitles/vocabulary.csv"
PROVINCES = "divisions/provinces.csv"


@cache
def _province_names() -> dict[str, str]:
    """Every spelling of a provincial-level division (full, short, English in any case) → its short name."""
    names: dict[str, str] = {}
    reader = csv.DictReader(io.StringIO(files(__name__).joinpath(PROVINCES).read_text(encoding="utf-8")))
    for row in reader:
        for spelling in (row["name"], row["short"], row["english"].casefold()):
            names[spelling] = row["short"]
    return names


def normalise_province(value: str) -> str:
    """贵州省, 贵州 and Guizhou are one province: its short name (``divisions/provinces.csv``).  A value
    that names no division there is kept as written (catalogues need not be Chinese)."""
    cleaned = value.strip()
    names = _province_names()
    return names.get(cleaned) or names.get(cleaned.casefold()) or cleaned


def title_vocabulary_text() -> str:
    """The shipped job-title vocabulary (``jobtitles/vocabulary.csv``, see its ATTRIBUTION.md)."""
    return files(__name__).joinpath(TITLE_VOCABULARY).read_text(encoding="utf-8")


@cache
def title_vocabulary() -> TitleVocabulary:
    """The shipped job-title vocabulary, parsed once per process."""
    from matching.scoring.jobtitles import TitleVocabulary

    return TitleVocabulary.from_csv(title_vocabulary_text())


@cache
def job_title_expander() -> JobTitleExpander:
    """A ``JobTitleExpander`` on the shipped vocabulary (what the service and ``chanjiao rank`` use)."""
    from matching.scoring.jobtitles import JobTitleExpander

    return JobTitleExpander(title_vocabulary())


TRANSFER_COLUMNS = "transfer/columns.csv"
TRANSFER_VALUES = "transfer/values.csv"


def _rows(path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files(__name__).joinpath(path).read_text(encoding="utf-8"))))


@cache
def transfer_columns() -> tuple[dict[str, str], ...]:
    """The columns of every import and export kind with their headers (``transfer/columns.csv``,
    see its ATTRIBUTION.md), in template order."""
    return tuple(_rows(TRANSFER_COLUMNS))


@cache
def transfer_values() -> tuple[dict[str, str], ...]:
    """Words of yes/no cells and names of placement statuses (``transfer/values.csv``)."""
    return tuple(_rows(TRANSFER_VALUES))
