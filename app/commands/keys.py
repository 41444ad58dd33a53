"""``chanjiao keys create``: API keys for machines and people's scripts."""

from __future__ import annotations

import typer
from rich.console import Console

from app.db.models import Role
from app.errors import ChanjiaoError

console = Console(stderr=True)


def register(cli: typer.Typer) -> None:
    keys = typer.Typer(help="API keys.", no_args_is_help=True)
    cli.add_typer(keys, name="keys")

    @keys.command("create")
    def create(
        role: Role = typer.Option(..., help="admin, scheduler, placement_office or enterprise_hr."),
        college: int | None = typer.Option(None, help="College id (placement_office keys)."),
        enterprise: int | None = typer.Option(None, help="Enterprise id (enterprise_hr keys)."),
        label: str = typer.Option("", help="A note on what the key is for."),
    ) -> None:
        """Create an API key; the key is printed once, as the last line."""
        from app.commands._db import session_factory
        from app.services.auth import create_key_for_role

        try:
            with session_factory().begin() as session:
                key = create_key_for_role(session, role, college_id=college, enterprise_id=enterprise, label=label)
        except ChanjiaoError as exc:
            console.print(f"[red]error:[/red] {exc.detail}")
            raise typer.Exit(2) from exc
        console.print(f"created a {role.value} key; store it now, it is not shown again:")
        typer.echo(key)
