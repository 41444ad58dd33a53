"""``chanjiao users create|set-password|revoke``: accounts of the web UI and their sessions."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from app.db.models import Role

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
        email: str | None = typer.Option(None, help="Where notifications are mailed (with CHANJIAO_SMTP_HOST)."),
    ) -> None:
        """Create a user who signs in to the web UI with the role (and tenant) given."""
        from app.commands._db import write_or_exit
        from app.services.notifications import set_email
        from app.services.users import create_user

        password = _read_password(password_stdin)
        with write_or_exit(console) as session:
            create_user(session, username, password, role, college_id=college, enterprise_id=enterprise)
            if email:
                set_email(session, username, email)
        console.print(f"created {role.value} user {username}")

    @users.command("set-password")
    def set_password_command(
        username: str = typer.Argument(..., help="The user's sign-in name."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from the first line of standard input."),
    ) -> None:
        """Give a user a new password; every web session of the user ends."""
        from app.commands._db import write_or_exit
        from app.services.users import set_password

        password = _read_password(password_stdin)
        with write_or_exit(console) as session:
            set_password(session, username, password)
        console.print(f"new password set for {username}; their sessions have ended")

    @users.command("set-email")
    def set_email_command(
        username: str = typer.Argument(..., help="The user's sign-in name."),
        email: str | None = typer.Argument(None, help="The address; leave it out to stop mailing the user."),
    ) -> None:
        """Set the address a user's notifications are mailed to (when an SMTP server is configured)."""
        from app.commands._db import write_or_exit
        from app.services.notifications import set_email

        with write_or_exit(console) as session:
            set_email(session, username, email)
        console.print(f"notifications of {username} are mailed to {email}" if email
                      else f"notifications of {username} are in-app only")

    @users.command("revoke")
    def revoke(username: str = typer.Argument(..., help="The user's sign-in name.")) -> None:
        """End every web session of a user at once (a lost laptop, a copied cookie, a leaver)."""
        from app.commands._db import write_or_exit
        from app.services.users import revoke_sessions

        with write_or_exit(console) as session:
            count = revoke_sessions(session, username)
        console.print(f"revoked {count} session(s) of {username}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    # Never an option: a password on the command line ends up in shell history and `ps`.
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
