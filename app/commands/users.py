"""``chanjiao users create``: accounts for the web UI."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from app.db.models import Role
from app.errors import ChanjiaoError

console = Console(stderr=True)


def register(cli: typer.Typer) -> None:
    users = typer.Typer(help="Web UI users.", no_args_is_help=True)
    cli.add_typer(users, name="users")

    @users.command("create")
    def create(
        username: str = typer.Option(..., help="Sign-in name (letters, digits, '.', '_', '-')."),
        role: Role = typer.Option(..., help="admin, scheduler, placement_office or enterprise_hr."),
        college: int | None = typer.Option(None, help="College id (placement_office users)."),
        enterprise: int | None = typer.Option(None, help="Enterprise id (enterprise_hr users)."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from the first line of standard input."),
    ) -> None:
        """Create a user who signs in to the web UI with the role (and tenant) given."""
        from app.commands._db import session_factory
        from app.services.users import create_user

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            # Never an option: a password on the command line ends up in shell history and `ps`.
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            with session_factory().begin() as session:
                create_user(session, username, password, role, college_id=college, enterprise_id=enterprise)
        except ChanjiaoError as exc:
            console.print(f"[red]error:[/red] {exc.detail}")
            raise typer.Exit(2) from exc
        console.print(f"created {role.value} user {username}")
