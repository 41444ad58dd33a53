"""The columns of imports, templates and exports, read from ``app/data/transfer/columns.csv``.

Headers are data, not code: a kind's columns, their Chinese and English headers and the other
headers people use for them (学号, 学生编号, student number …) live in the data file, so that adding
a spelling is a data change.  A header matches ignoring case, spaces (also full-width ones) and a
trailing ``*`` or （必填） that templates of other systems add to required columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from app.data import transfer_columns, transfer_values

_DECORATION = re.compile(r"[\s\u3000]+|[*＊]+$|[(（](必填|选填|可选|required|optional)[)）]$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")


def is_chinese(locale: str | None) -> bool:
    return (locale or "").replace("-", "_").lower().startswith("zh")


def normalise_header(text: str) -> str:
    previous = None
    cleaned = text.strip()
    while previous != cleaned:  # "学号 (必填) *" loses both decorations
        previous, cleaned = cleaned, _DECORATION.sub("", cleaned)
    return cleaned.casefold()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class Column:
    field: str  # the English header and the key of the row's values
    zh: str  # the Chinese header ("" for legacy id columns, which have none)
    aliases: tuple[str, ...]
    template: bool  # written by templates and exports

    def header(self, locale: str | None) -> str:
        return self.zh if is_chinese(locale) and self.zh else self.field


@dataclass(frozen=True)
class ColumnSet:
    kind: str
    columns: tuple[Column, ...]

    @property
    def by_field(self) -> dict[str, Column]:
        return {column.field: column for column in self.columns}

    def match(self, header: str) -> Column | None:
        return _matcher(self.kind).get(normalise_header(header))

    def template_columns(self) -> list[Column]:
        return [column for column in self.columns if column.template]

    def headers(self, locale: str | None) -> list[str]:
        return [column.header(locale) for column in self.template_columns()]

    def label(self, field: str, locale: str | None) -> str:
        column = self.by_field.get(field)
        return column.header(locale) if column else field


@cache
def column_set(kind: str) -> ColumnSet:
    columns = tuple(
        Column(row["field"], row["zh_CN"], tuple(a for a in row["aliases"].split("|") if a), row["template"] == "yes")
        for row in transfer_columns() if row["kind"] == kind)
    if not columns:
        raise KeyError(kind)
    return ColumnSet(kind, columns)


@cache
def _matcher(kind: str) -> dict[str, Column]:
    names: dict[str, Column] = {}
    for column in column_set(kind).columns:
        for spelling in (column.field, column.zh, *column.aliases):
            if spelling:
                names.setdefault(normalise_header(spelling), column)
    return names


def kinds_with_columns() -> list[str]:
    return list(dict.fromkeys(row["kind"] for row in transfer_columns()))


@cache
def boolean_words() -> dict[str, bool]:
    """是, 否, yes, √ … → the boolean they mean (casefolded)."""
    words: dict[str, bool] = {}
    for row in transfer_values():
        if row["kind"] == "boolean":
            for word in (row["value"], row["zh_CN"], row["en"], *row["aliases"].split("|")):
                if word:
                    words[word.casefold()] = row["value"] == "true"
    return words


def boolean_word(value: bool, locale: str | None) -> str:
    for row in transfer_values():
        if row["kind"] == "boolean" and (row["value"] == "true") == value:
            return row["zh_CN"] if is_chinese(locale) else row["en"]
    return str(value).lower()


@cache
def status_labels(locale: str) -> dict[str, str]:
    """Placement statuses as words of ``locale`` (the same words as the web UI's catalogue)."""
    return {row["value"]: row["zh_CN"] if is_chinese(locale) else row["en"]
            for row in transfer_values() if row["kind"] == "status"}
