"""``chanjiao demo seed``, ``demo keys`` and ``demo users``: the realistic demo data set, its keys and users."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def register(cli: typer.Typer) -> None:
    demo = typer.Typer(help="Demo data (two provinces, deterministic).", no_args_is_help=True)
    cli.add_typer(demo, name="demo")

    @demo.command("seed")
    def seed(
        seed: int = typer.Option(2027, "--seed", help="Random seed: the same seed gives the same rows."),
        if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when colleges already exist."),
    ) -> None:
        """Seed colleges, programs, enterprises, openings, students, lecturers, course needs and history."""
        from app.commands._db import session_factory
        from app.services.demo import CatalogMissing, DemoAlreadySeeded, seed_demo

        try:
            with session_factory().begin() as session:
                summary = seed_demo(session, seed, if_empty=if_empty)
        except (DemoAlreadySeeded, CatalogMissing) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        if summary.skipped:
            console.print("database already has colleges: demo seed skipped")
            return
        table = Table(title=f"demo data (seed {seed})")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, count in summary.counts.items():
            table.add_row(name, str(count))
        console.print(table)
        _issue_demo_users(show_passwords=False)

    @demo.command("users")
    def users() -> None:
        """Give every demo actor a web UI user with a fresh password and print them (shown only this once)."""
        _issue_demo_users()

    @demo.command("keys")
    def keys() -> None:
        """Create fresh API keys for the demo actors and print them (shown only this once)."""
        from app.commands._db import session_factory
        from app.services.auth import create_api_key
        from app.services.demo import demo_actors, demo_tenant_names

        with session_factory().begin() as session:
            actors = demo_actors(session)
            tenants = demo_tenant_names(session, actors)
            issued = [(a, create_api_key(session, a, label="demo")) for a in actors]
        if not issued:
            err.print("[red]no demo actors: run `chanjiao demo seed` first[/red]")
            raise typer.Exit(1)
        table = Table(title="demo API keys")
        for column in ("role", "tenant", "key"):
            # The key must stay whole and copyable; the other columns fold on narrow terminals.
            table.add_column(column, no_wrap=column == "key", overflow="fold")
        for actor, key in issued:
            table.add_row(actor.role.value, tenants.get(actor.id, "—"), key)
        # A console made now, not at import, so the terminal width (COLUMNS) of this call applies.
        Console().print(table)


def _issue_demo_users(*, show_passwords: bool = True) -> None:
    from app.commands._db import session_factory
    from app.services.demo import demo_actors, demo_tenant_names
    from app.services.users import reset_users_of_actors

    with session_factory().begin() as session:
        actors = demo_actors(session)
        tenants = demo_tenant_names(session, actors)
        issued = reset_users_of_actors(session, actors)
    if not issued:
        err.print("[red]no demo actors: run `chanjiao demo seed` first[/red]")
        raise typer.Exit(1)
    if not show_passwords:
        # The seed makes the users; `demo users` (run by `make run`) hands out fresh passwords.
        names = ", ".join(cred.username for cred in issued)
        console.print(f"web UI users: {names} (passwords: `chanjiao demo users`)")
        return
    table = Table(title="demo users of the web UI (sign in at /login)")
    for column in ("role", "tenant", "username", "password"):
        table.add_column(column, no_wrap=column in ("username", "password"), overflow="fold")
    for cred in issued:
        table.add_row(cred.role.value, tenants.get(cred.actor_id, "—"), cred.username, cred.password)
    console.print(table)
