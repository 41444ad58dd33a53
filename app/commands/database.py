"""``chanjiao db ...`` and ``chanjiao serve``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def alembic_config(url: str | None = None) -> object:
    from alembic.config import Config

    # A source checkout keeps alembic.ini beside app/; an installed image keeps it in the working dir.
    checkout = Path(__file__).resolve().parents[2]
    root = checkout if (checkout / "alembic.ini").exists() else Path.cwd()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def register(cli: typer.Typer) -> None:
    db = typer.Typer(help="Database schema.", no_args_is_help=True)
    cli.add_typer(db, name="db")

    @db.command("upgrade")
    def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
        """Run the migrations up to REVISION (default: head)."""
        from alembic import command

        from app.settings import get_settings

        command.upgrade(alembic_config(get_settings().database_url), revision)  # type: ignore[arg-type]
        console.print(f"[green]database at {revision}[/green]")

    @cli.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to bind."),
        port: int = typer.Option(8000, help="TCP port."),
        workers: int = typer.Option(1, min=1, help="Server processes."),
    ) -> None:
        """Serve the REST API, its docs (/docs) and the web UI."""
        import uvicorn

        from app.api.observability import log_config

        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                    timeout_graceful_shutdown=20, log_config=log_config())
