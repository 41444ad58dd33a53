"""``chanjiao import KIND FILE [--dry-run] [--mode create|upsert]``, ``chanjiao export KIND --format csv|xlsx
--out FILE [--lang zh-CN|en]`` and ``chanjiao template KIND --out FILE [--lang zh-CN|en]``.

Both run as the system principal (the machine's operator is an admin), through the same services
as the API, inside one transaction: a failed import leaves nothing behind.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=160)
errors_console = Console(stderr=True, width=160)


class TransferKind(StrEnum):
    STUDENTS = "students"
    OPENINGS = "openings"
    LECTURERS = "lecturers"
    COURSE_NEEDS = "course-needs"
    PROGRAMS = "programs"
    ENTERPRISES = "enterprises"
    COLLEGES = "colleges"


class ExportKind(StrEnum):
    STUDENTS = "students"
    OPENINGS = "openings"
    LECTURERS = "lecturers"
    COURSE_NEEDS = "course-needs"
    PROGRAMS = "programs"
    ENTERPRISES = "enterprises"
    COLLEGES = "colleges"
    PLACEMENTS = "placements"  # published internship placements, with names (export only)


class Mode(StrEnum):
    CREATE = "create"
    UPSERT = "upsert"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def _print_row_errors(errors: list[tuple[int, str | None, str]], total: int) -> None:
    table = Table(title=f"{total} error(s)", title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("message", overflow="fold")
    for row, column, message in errors:
        table.add_row(str(row), column or "—", message)
    console.print(table)


def register(cli: typer.Typer) -> None:
    @cli.command("import")
    def import_rows(
        kind: TransferKind = typer.Argument(..., help="What the file holds."),
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                    help="A .csv (UTF-8 or GB18030) or .xlsx file; row 1 names the columns."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and store nothing."),
        mode: Mode = typer.Option(Mode.CREATE, "--mode", help="create, or upsert: update the rows whose natural key "
                                  "(学号, 岗位编号 …) exists and create the others; nothing is deleted."),
    ) -> None:
        """Import rows from CSV or XLSX: all or nothing; every bad row is listed."""
        from app.commands._db import session_factory
        from app.errors import ChanjiaoError
        from app.security import SYSTEM
        from app.services.imports import ImportMode, ImportRejected, ImportService
        from app.settings import get_settings
        from app.tabular import read_table

        settings = get_settings()
        try:
            if file.stat().st_size > settings.max_import_bytes:
                raise typer.BadParameter(f"the file exceeds {settings.max_import_bytes} bytes "
                                         "(CHANJIAO_MAX_IMPORT_BYTES)", param_hint="FILE")
            table = read_table(file.read_bytes(), file.name, max_rows=settings.max_import_rows,
                               max_unzipped_bytes=settings.max_import_bytes * 10)
            with session_factory().begin() as session:
                report = ImportService(session, SYSTEM).run(kind.value, table, dry_run=dry_run,
                                                            mode=ImportMode(mode.value))
        except ImportRejected as exc:
            report = exc.report
        except ChanjiaoError as exc:
            errors_console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from exc

        if report.errors:
            _print_row_errors([(e.row, e.column, e.message) for e in report.errors], report.error_count)
            console.print(f"[red]{report.kind}: {report.rows} row(s) read, {report.error_count} error(s); "
                          "nothing was stored[/red]")
            raise typer.Exit(1)
        if dry_run:
            console.print(f"[green]{report.kind}: all {report.rows} row(s) are valid (dry run: nothing "
                          "stored)[/green]")
        else:
            console.print(f"[green]{report.kind}: imported {report.created} row(s)"
                          + (f", updated {report.updated}, unchanged {report.unchanged}"
                             if report.mode.value == "upsert" else "") + "[/green]")

    @cli.command("export")
    def export_rows(
        kind: ExportKind = typer.Argument(..., help="What to export."),
        file_format: ExportFormat = typer.Option(ExportFormat.CSV, "--format", help="csv or xlsx."),
        out: Path = typer.Option(..., "--out", dir_okay=False, help="File to write."),
        lang: Language = typer.Option(Language.EN, "--lang", help="Headers in English or Chinese (学号 …)."),
    ) -> None:
        """Export every row of a kind as CSV (UTF-8 with BOM) or XLSX, formulas neutralised."""
        from app.commands._db import session_factory
        from app.security import SYSTEM
        from app.services.imports import ExportService
        from app.services.placement_exports import placement_table
        from app.tabular import FileType, write_table

        with session_factory().begin() as session:
            if kind is ExportKind.PLACEMENTS:
                header, rows = placement_table(session, SYSTEM, lang.value)
            else:
                header, rows = ExportService(session, SYSTEM).table(kind.value, lang.value)
        out.write_bytes(write_table(header, rows, FileType(file_format.value), title=kind.value))
        console.print(f"[green]{kind.value}: exported {len(rows)} row(s) to {out}[/green]")

    @cli.command("template")
    def template(
        kind: TransferKind = typer.Argument(..., help="What the file will hold."),
        out: Path = typer.Option(..., "--out", dir_okay=False, help="File to write (.xlsx or .csv)."),
        lang: Language = typer.Option(Language.ZH_CN, "--lang", help="Headers in Chinese (学号 …) or English."),
    ) -> None:
        """Write an empty import file of a kind: the header row, in the format the file name says."""
        from app.services.imports import ExportService
        from app.tabular import FileType, write_table

        header = ExportService.template(kind.value, lang.value)
        file_type = FileType.CSV if out.suffix.lower() == ".csv" else FileType.XLSX
        out.write_bytes(write_table(header, [], file_type, title=kind.value))
        console.print(f"[green]{kind.value}: template with {len(header)} columns written to {out}[/green]")
