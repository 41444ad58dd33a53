"""``chanjiao catalog load``: the shipped major catalogue and 大典 occupations into the database."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def register(cli: typer.Typer) -> None:
    catalog = typer.Typer(help="Reference catalogues (majors, occupations).", no_args_is_help=True)
    cli.add_typer(catalog, name="catalog")

    @catalog.command("load")
    def load() -> None:
        """Load (or refresh) the major catalogue and the 大典 2022 occupations.  Idempotent."""
        from app.commands._db import session_factory
        from app.services.catalog import load_catalog

        with session_factory().begin() as session:
            result = load_catalog(session)

        table = Table(title="catalogue")
        for column in ("table", "inserted", "updated", "unchanged", "total"):
            table.add_column(column, justify="left" if column == "table" else "right")
        for name, counts in (("majors", result.majors), ("occupations", result.occupations)):
            table.add_row(name, str(counts.inserted), str(counts.updated), str(counts.unchanged),
                          str(counts.total))
        console.print(table)
