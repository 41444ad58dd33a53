"""Reading and writing spreadsheets (CSV and XLSX) safely: pure functions over bytes, no DB.

Uploaded files are hostile until proven otherwise, so reading checks, before any parser sees the
bytes, what the file really is (by its content, not only its name), refuses macro workbooks, and
measures a workbook's zip members so that a zip bomb is refused without being inflated.  openpyxl
parses XML through defusedxml when it is importable (it is a dependency); :func:`_openpyxl` checks
that it really does, so that an environment without it fails closed instead of parsing entities.

Writing neutralises cells that a spreadsheet program would run as a formula (OWASP "CSV
injection"), and reading undoes exactly that neutralisation so an export can be imported again.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from defusedxml import DefusedXmlException

from app.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType


class FileType(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    FileType.CSV: "text/csv; charset=utf-8",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula (or, for tab
# and carriage return, let one hide after whitespace).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .xlsm-as-OLE / .doc
_MACRO_EXTENSIONS = frozenset({".xlsm", ".xltm", ".xlam", ".xlsb", ".xls"})
_MACRO_MEDIA_MARKERS = ("macroenabled", "ms-excel.sheet.binary", "vnd.ms-excel")

# A workbook's XML compresses well, but not by more than this: deflate tops out near 1032:1 and real
# sheets sit far below 100:1, so anything above is a bomb rather than a spreadsheet.
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_MEMBERS = 1_000
# Blank rows are skipped, but a sheet can claim row 2,000,000,000 in one short element; stop
# walking once this many blank rows have gone by.
MAX_BLANK_ROWS = 10_000
# The widest import has 15 columns; a header far wider than that is not one of ours.
MAX_COLUMNS = 1_000
# Cells kept for validation (data rows x their width): 200,000 rows of the widest kind fit.
MAX_CELLS = 5_000_000
# One cell at column XFD costs 16,384 cells of a workbook row as openpyxl reads it (it pads every
# row up to its last cell, blank or not); the padding is capped so that time stays bounded.
MAX_READ_CELLS = 20_000_000


@dataclass(frozen=True)
class Table:
    """A header and the non-blank data rows, each with its row number as a spreadsheet shows it
    (the header is row 1)."""

    file_type: FileType
    header: list[str]
    rows: list[tuple[int, list[str | None]]]


# --------------------------------------------------------------------------- detecting the type


def detect_type(data: bytes, filename: str | None, content_type: str | None = None) -> FileType:
    """What the upload is, from its bytes; the name and media type may only agree or refuse."""
    suffix = PurePath(filename).suffix.lower() if filename else ""
    media = (content_type or "").lower()
    if suffix in _MACRO_EXTENSIONS or any(marker in media for marker in _MACRO_MEDIA_MARKERS):
        raise UnsupportedMediaType(
            "macro-enabled and legacy Excel files are not accepted; save the sheet as .xlsx or .csv"
        )
    if suffix not in ("", ".csv", ".txt", ".xlsx"):
        raise UnsupportedMediaType(f"files of type {suffix} are not accepted; upload .csv or .xlsx")
    if data.startswith(_OLE2_MAGIC):
        raise UnsupportedMediaType("legacy binary Excel files are not accepted; save the sheet as .xlsx or .csv")
    if data.startswith(_ZIP_MAGIC):
        if suffix in (".csv", ".txt"):
            raise UnsupportedMediaType("the file is named .csv but holds a zip archive (a workbook?)")
        return FileType.XLSX
    if suffix == ".xlsx":
        raise UnsupportedMediaType("the file is named .xlsx but is not a workbook")
    if b"\x00" in data[:65536]:
        # Text files never contain NUL in UTF-8 or GB18030; UTF-16 or binary data does.
        raise UnsupportedMediaType("the file is binary, not CSV text (UTF-8 or GB18030)")
    return FileType.CSV


# --------------------------------------------------------------------------- reading


def read_table(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    *,
    max_rows: int,
    max_unzipped_bytes: int,
) -> Table:
    """Parse an upload into a :class:`Table`, refusing anything unsafe or too large."""
    file_type = detect_type(data, filename, content_type)
    if file_type is FileType.XLSX:
        records: Iterator[tuple[int, list[str | None]]] = _xlsx_records(data, max_unzipped_bytes)
    else:
        records = _csv_records(decode_text(data))
    return _table(file_type, records, max_rows)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes) or else GB18030 (what Chinese Excel writes).

    UTF-8 is tried strictly first: valid UTF-8 Chinese text is almost never also meaningful
    GB18030 by accident, while the reverse guess would garble every UTF-8 file.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Unprocessable("the CSV file is neither UTF-8 nor GB18030 text") from exc


def _csv_records(text: str) -> Iterator[tuple[int, list[str | None]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, list(record)
    except csv.Error as exc:
        # Record numbers, not physical lines: a quoted cell may span lines, a spreadsheet row never.
        raise Unprocessable(f"the CSV file is malformed near row {number + 1}: {exc}") from exc


def _openpyxl() -> Any:
    import openpyxl
    from openpyxl import xml as openpyxl_xml

    if not openpyxl_xml.DEFUSEDXML:
        # Without defusedxml, openpyxl parses entity declarations (billion laughs, external
        # entities); refuse workbooks rather than parse them unprotected.
        raise UnsupportedMediaType("workbooks cannot be read safely here (defusedxml is not active)")
    return openpyxl


def check_zip(data: bytes, max_unzipped_bytes: int) -> None:
    """Refuse zip bombs and macro workbooks from the zip directory alone, before inflating."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unprocessable("the workbook is not a valid .xlsx (zip) file") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise PayloadTooLarge(f"the workbook has more than {MAX_ZIP_MEMBERS} parts")
        total = 0
        for member in members:
            # The sizes come from the directory and could lie; zipfile stops reading a member at its
            # declared size and checks the CRC, so inflating can never exceed what is summed here.
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO and member.file_size > 1024 * 1024:
                raise PayloadTooLarge(f"the workbook part {member.filename!r} is compressed suspiciously "
                                      f"well ({ratio:.0f}:1); refusing to inflate it")
            name = member.filename.lower()
            if name.endswith("vbaproject.bin") or (name.endswith(".bin") and "activex" in name):
                raise UnsupportedMediaType("the workbook contains macros; save it as a plain .xlsx")
        if total > max_unzipped_bytes:
            raise PayloadTooLarge(f"the workbook inflates to {total} bytes, more than {max_unzipped_bytes}")
        try:
            content_types = archive.read("[Content_Types].xml").lower()
        except KeyError as exc:
            raise Unprocessable("the workbook has no [Content_Types].xml; it is not an .xlsx file") from exc
        if b"macroenabled" in content_types or b"vbaproject" in content_types:
            raise UnsupportedMediaType("the workbook is macro-enabled; save it as a plain .xlsx")


def _xlsx_records(data: bytes, max_unzipped_bytes: int) -> Iterator[tuple[int, list[str | None]]]:
    check_zip(data, max_unzipped_bytes)
    openpyxl = _openpyxl()
    try:
        # read_only streams the sheet's XML row by row; keep_links=False: never follow links to
        # other workbooks.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types (KeyError, ValueError, defusedxml's, ...)
        raise Unprocessable(f"the workbook could not be read: {_reason(exc)}") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise Unprocessable("the workbook has no worksheet")
        # The stored dimensions are only a claim; without them openpyxl pads no row to a fake width.
        sheet.reset_dimensions()
        try:
            yield from _bounded_rows(sheet.iter_rows(values_only=True))
        except (Unprocessable, PayloadTooLarge):
            raise
        except Exception as exc:
            raise Unprocessable(f"the workbook could not be read: {_reason(exc)}") from exc
    finally:
        workbook.close()


def _bounded_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, list[str | None]]]:
    """Rows cut to the header's width, refusing a value to the right of it.

    Only the first ``width`` cells of a row are converted and kept, so a cell in column XFD costs
    what openpyxl spends padding the row (capped by :data:`MAX_READ_CELLS`), not a 16,384-item row
    per line.  A value beyond the header is refused for the whole file rather than reported per row,
    because reporting it row by row would mean keeping those rows at their full width.
    """
    width: int | None = None
    read = 0
    for number, values in enumerate(rows, start=1):
        read += len(values)
        if read > MAX_READ_CELLS:
            raise PayloadTooLarge(
                f"the workbook holds more than {MAX_READ_CELLS:,} cells (counting blank ones up to each row's "
                f"last cell; row {number} reaches column {_column_letter(len(values))}); delete the cells to the "
                "right of the table")
        if width is None:
            width = _last_filled(values)
            if width > MAX_COLUMNS:
                raise PayloadTooLarge(f"the header row has {width} columns, more than {MAX_COLUMNS}")
            # No header in row 1: the table reader refuses the first filled row; bound what it reads.
            bound = width or MAX_COLUMNS
            yield number, [_cell_text(value) for value in values[:bound]]
            continue
        if len(values) > bound and width and values.count(None) - values[:bound].count(None) < len(values) - bound:
            beyond = _last_filled(values)
            if beyond > bound:
                raise Unprocessable(
                    f"row {number} has a value in column {_column_letter(beyond)}, to the right of the last named "
                    f"column ({_column_letter(bound)}); name its column in row 1 or delete it")
        yield number, [_cell_text(value) for value in values[:bound]]


def _last_filled(values: Sequence[Any]) -> int:
    """The 1-based position of the last cell that is not blank (0 when all are)."""
    for position in range(len(values), 0, -1):
        value = values[position - 1]
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return position
    return 0


def _column_letter(position: int) -> str:
    letters = ""
    while position > 0:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _reason(exc: BaseException) -> str:
    # openpyxl wraps parser errors in a ValueError; the cause says what was wrong.
    cause: BaseException | None = exc
    for _ in range(10):
        if cause is None:
            break
        if isinstance(cause, DefusedXmlException):
            return "it declares XML entities or a DTD, which are not allowed"
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def _cell_text(value: Any) -> str | None:
    """A workbook cell as the text a CSV would hold, so both formats validate the same way."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 2023001 typed into Excel is stored as 2023001.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _table(file_type: FileType, records: Iterator[tuple[int, list[str | None]]], max_rows: int) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, list[str | None]]] = []
    blank_run = 0
    kept = 0
    for number, raw in records:
        cells = [unneutralise(cell.strip()) if isinstance(cell, str) else None for cell in raw]
        cells = [cell or None for cell in cells]
        if not any(cells):
            blank_run += 1
            if blank_run > MAX_BLANK_ROWS:
                raise Unprocessable(f"more than {MAX_BLANK_ROWS} blank rows in a row near row {number}")
            continue
        blank_run = 0
        if header is None:
            if number != 1:
                raise Unprocessable(f"the header must be in row 1 (found it in row {number})")
            while cells and cells[-1] is None:
                cells.pop()
            header = [cell or "" for cell in cells]
            continue
        if len(rows) >= max_rows:
            raise PayloadTooLarge(f"the file has more than {max_rows} data rows")
        kept += len(cells)
        if kept > MAX_CELLS:
            raise PayloadTooLarge(f"the file has more than {MAX_CELLS:,} cells (near row {number})")
        rows.append((number, cells))
    if header is None:
        raise Unprocessable("the file is empty: the first row must name the columns")
    return Table(file_type, header, rows)


# --------------------------------------------------------------------------- writing


def neutralise(text: str) -> str:
    """Prefix a would-be formula with ``'`` so spreadsheet programs show it as text."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise` (only that: other leading apostrophes are data)."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _export_value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # what the importer (pydantic) reads back
    return _export_value(value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, which is what makes Excel read Chinese text correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def column_widths(header: Sequence[str], rows: Sequence[Sequence[Any]], *, least: int = 8, most: int = 50) -> list[int]:
    """Widths (in characters) that fit each column's longest cell, a Chinese character counting
    two, within ``least`` and ``most``; the first 1,000 rows decide."""
    def width(value: Any) -> int:
        text = "" if value is None else str(value)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    sample = rows[:1000]
    return [min(most, max(least, width(name) + 2, *(width(row[i]) + 2 for row in sample if i < len(row))))
            for i, name in enumerate(header)]


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "data",
               freeze_header: bool = False, widths: Sequence[int] | None = None) -> bytes:
    """A workbook of one sheet; ``freeze_header`` keeps row 1 in view while scrolling, ``widths``
    sets the columns' widths in characters (see :func:`column_widths`)."""
    openpyxl = _openpyxl()
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    # A write-only sheet takes its view and column widths before the first row.
    if freeze_header:
        sheet.freeze_panes = "A2"
    for position, chars in enumerate(widths or (), start=1):
        sheet.column_dimensions[get_column_letter(position)].width = chars
    sheet.append(list(header))
    for row in rows:
        # openpyxl stores any string starting with "=" as a formula: neutralising is what makes it data.
        sheet.append([_xlsx_value(value, ILLEGAL_CHARACTERS_RE) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_table(header: Sequence[str], rows: Sequence[Sequence[Any]], file_format: FileType, *,
                title: str = "data") -> bytes:
    """CSV, or a workbook whose header row stays in view and whose columns fit their contents."""
    if file_format is FileType.CSV:
        return write_csv(header, rows)
    return write_xlsx(header, rows, title=title, freeze_header=True, widths=column_widths(header, rows))


def _xlsx_value(value: Any, illegal: Any) -> Any:
    if isinstance(value, str):
        # XML 1.0 cannot hold most control characters; openpyxl would refuse the whole file.
        return neutralise(illegal.sub("", value))
    return value
