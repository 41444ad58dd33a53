"""``chanjiao partnerships import FILE [--dry-run]`` and ``chanjiao partnerships export --out FILE``.

The file is JSON: ``{"alliances": [...], "partnerships": [...]}`` with the API's create bodies (a
partnership may carry its ``status``, reached through the allowed transitions, each audited).  Run
as the system principal, in one transaction: a file with any bad row stores nothing, and every bad
row is named with its field.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

console = Console(width=160)
errors_console = Console(stderr=True, width=160)


def register(cli: typer.Typer) -> None:
    group = typer.Typer(help="Partnerships (校企合作项目) and alliances: import and export.", no_args_is_help=True)
    cli.add_typer(group, name="partnerships")

    @group.command("import")
    def import_file(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A JSON file."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and store nothing."),
    ) -> None:
        """Import alliances and partnerships: all or nothing; every bad row is listed."""
        from app.commands._db import session_factory
        from app.security import SYSTEM
        from app.services.partnerships import PartnershipImportError, import_document

        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            errors_console.print(f"[red]{file}: not a UTF-8 JSON file ({exc})[/red]")
            raise typer.Exit(1) from exc
        with session_factory()() as session:
            try:
                alliances, partnerships = import_document(session, SYSTEM, document)
            except PartnershipImportError as exc:
                session.rollback()
                for error in exc.errors:
                    errors_console.print(f"[red]{error}[/red]")
                errors_console.print(f"[red]{len(exc.errors)} error(s); nothing was stored[/red]")
                raise typer.Exit(1) from exc
            if dry_run:
                session.rollback()
            else:
                session.commit()
        verb = "would import" if dry_run else "imported"
        console.print(f"[green]{verb} {alliances} alliance(s) and {partnerships} partnership(s)[/green]")

    @group.command("export")
    def export_file(out: Path = typer.Option(..., "--out", dir_okay=False, help="File to write.")) -> None:
        """Export every alliance and partnership as JSON (the import's format)."""
        from app.commands._db import session_factory
        from app.security import SYSTEM
        from app.services.partnerships import export_document

        with session_factory().begin() as session:
            document = export_document(session, SYSTEM)
        out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        console.print(f"[green]exported {len(document['alliances'])} alliance(s) and "
                      f"{len(document['partnerships'])} partnership(s) to {out}[/green]")
